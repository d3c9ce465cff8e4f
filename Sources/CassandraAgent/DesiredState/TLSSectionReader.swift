/// Reads the `tls` section. The stores themselves are built from these inputs
/// elsewhere; here every field is checked for shape and for the combinations
/// that cannot work.
enum TLSSectionReader {
    static func read(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.TLS? {
        guard var section = MappingReader(node, context: "tls", diagnostics: &diagnostics) else { return nil }
        defer { section.rejectUnknownKeys(&diagnostics) }
        let internode = section.optional("internode").flatMap { internodeSection($0, &diagnostics) }
        let client = section.optional("client").flatMap { clientSection($0, &diagnostics) }
        return DesiredState.TLS(internode: internode, client: client, mark: node.mark)
    }

    static func internodeSection(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.Internode? {
        guard var section = MappingReader(node, context: "tls.internode", diagnostics: &diagnostics) else { return nil }
        let encryptionNode = section.required("encryption", diagnostics: &diagnostics)
        let encryption = encryptionNode.flatMap {
            MappingReader.oneOf($0, "tls.internode.encryption", DesiredState.Internode.Encryption.allCases.map(\.rawValue), &diagnostics)
        }.flatMap(DesiredState.Internode.Encryption.init(rawValue:))
        let requireClientAuth = section.optional("requireClientAuth").flatMap { MappingReader.bool($0, "tls.internode.requireClientAuth", &diagnostics) } ?? false
        let needsStores = encryption != nil && encryption != DesiredState.Internode.Encryption.none
        let stores = storeInputs(&section, context: "tls.internode", required: needsStores, &diagnostics)
        section.rejectUnknownKeys(&diagnostics)
        guard let encryption else { return nil }
        return DesiredState.Internode(encryption: encryption, stores: stores, requireClientAuth: requireClientAuth, mark: node.mark)
    }

    static func clientSection(_ node: YAMLNode, _ diagnostics: inout Diagnostics) -> DesiredState.Client? {
        guard var section = MappingReader(node, context: "tls.client", diagnostics: &diagnostics) else { return nil }
        let enabled = section.required("enabled", diagnostics: &diagnostics).flatMap { MappingReader.bool($0, "tls.client.enabled", &diagnostics) }
        let optional = section.optional("optional").flatMap { MappingReader.bool($0, "tls.client.optional", &diagnostics) } ?? false
        let requireClientAuth = section.optional("requireClientAuth").flatMap { MappingReader.bool($0, "tls.client.requireClientAuth", &diagnostics) } ?? false
        let stores = storeInputs(&section, context: "tls.client", required: enabled == true, &diagnostics)
        if requireClientAuth, let enabled, enabled, stores?.trust.isEmpty == true {
            diagnostics.error("tls.client.requireClientAuth needs tls.client.trust: the certificates client certificates are checked against", at: section.keyMark("requireClientAuth"))
        }
        section.rejectUnknownKeys(&diagnostics)
        guard let enabled else { return nil }
        return DesiredState.Client(enabled: enabled, optional: optional, requireClientAuth: requireClientAuth, stores: stores, mark: node.mark)
    }

    /// A relative path is relative to the desired-state file's directory.
    /// `credential:NAME` names a systemd credential (LoadCredential=), read from $CREDENTIALS_DIRECTORY.
    static func resolve(_ path: String, _ file: String) -> String {
        path.hasPrefix("/") || path.hasPrefix(NodeArtifactsBuilder.credentialPrefix) ? path : FileIO.directoryName(file) + "/" + path
    }

    static let storeKeys = ["certificate", "privateKey", "privateKeyPasswordFile", "trust", "storeType", "passwordFile", "protocols", "cipherSuites"]

    /// The store inputs; reported as missing only when the encryption in force needs them.
    static func storeInputs(_ section: inout MappingReader, context: String, required: Bool, _ diagnostics: inout Diagnostics) -> DesiredState.StoreInputs? {
        guard required || storeKeys.contains(where: section.has) else {
            storeKeys.forEach { _ = section.optional($0) }
            return nil
        }
        func path(_ key: String, mandatory: Bool) -> Located<String>? {
            let node = mandatory ? section.required(key, diagnostics: &diagnostics) : section.optional(key)
            guard let node, let text = MappingReader.string(node, "\(context).\(key)", &diagnostics) else { return nil }
            guard !text.isEmpty else {
                diagnostics.error("\(context).\(key) must name a file", at: node.mark)
                return nil
            }
            return Located(resolve(text, diagnostics.file), at: node.mark)
        }
        let certificate = path("certificate", mandatory: true)
        let privateKey = path("privateKey", mandatory: true)
        let keyPassword = path("privateKeyPasswordFile", mandatory: false)
        let passwordFile = path("passwordFile", mandatory: true)
        var trust: [Located<String>] = []
        if let node = section.required("trust", diagnostics: &diagnostics),
           let list = MappingReader.stringList(node, "\(context).trust", &diagnostics) {
            if list.isEmpty { diagnostics.error("\(context).trust must list at least one certificate file", at: node.mark) }
            for (text, mark) in list {
                if text.isEmpty {
                    diagnostics.error("\(context).trust entries must name files", at: mark)
                } else {
                    trust.append(Located(resolve(text, diagnostics.file), at: mark))
                }
            }
        }
        let storeType = section.optional("storeType").flatMap {
            MappingReader.oneOf($0, "\(context).storeType", DesiredState.StoreType.allCases.map(\.rawValue), &diagnostics)
        }.flatMap(DesiredState.StoreType.init(rawValue:)) ?? .pkcs12
        var protocols: [String] = []
        if let node = section.optional("protocols"), let list = MappingReader.stringList(node, "\(context).protocols", &diagnostics) {
            for (name, mark) in list where !["TLSv1.2", "TLSv1.3"].contains(name) {
                diagnostics.error("\(context).protocols: '\(name)' is not allowed; use TLSv1.2 and/or TLSv1.3", at: mark)
            }
            protocols = list.map(\.0)
        }
        let ciphers = section.optional("cipherSuites").flatMap { MappingReader.stringList($0, "\(context).cipherSuites", &diagnostics) }?.map(\.0) ?? []
        guard let certificate, let privateKey, let passwordFile else { return nil }
        return DesiredState.StoreInputs(
            certificate: certificate, privateKey: privateKey, privateKeyPasswordFile: keyPassword,
            trust: trust, storeType: storeType, passwordFile: passwordFile, protocols: protocols, cipherSuites: ciphers)
    }
}
