/// `server_encryption_options` and `client_encryption_options` for the target
/// version: only the fields that version has (3.11's server block has no
/// `enabled`, 4.1 renamed the legacy SSL port flag, ...), pointing at the
/// stores' install paths.
public enum EncryptionOptions {
    public static func storeFileName(_ side: String, _ kind: String, _ type: DesiredState.StoreType) -> String {
        "\(side)-\(kind).\(type == .pkcs12 ? "p12" : "jks")"
    }

    public static func render(version: CassandraVersion, tls: DesiredState.TLS, internode: NodeStoreMaterial?, client: NodeStoreMaterial?, directory: String) -> [(String, YAMLValue)] {
        let schema = CassandraSchema.of(version)
        var result: [(String, YAMLValue)] = []
        func block(_ name: String, _ fields: [(String, YAMLValue)]) {
            guard let spec = schema[name] else { return }
            result.append((name, .map(fields.filter { spec.field($0.0) != nil })))
        }
        func tuning(_ inputs: DesiredState.StoreInputs?) -> [(String, YAMLValue)] {
            guard let inputs else { return [] }
            var fields: [(String, YAMLValue)] = []
            // 4.0+ take a list of accepted protocols; 3.11 one protocol name.
            if !inputs.protocols.isEmpty {
                fields.append(version >= .v4_0 ? ("accepted_protocols", .list(inputs.protocols.map { .string($0) })) : ("protocol", .string(inputs.protocols.contains("TLSv1.2") ? "TLSv1.2" : inputs.protocols[0])))
            }
            if !inputs.cipherSuites.isEmpty { fields.append(("cipher_suites", .list(inputs.cipherSuites.map { .string($0) }))) }
            return fields
        }
        func stores(_ side: String, _ material: NodeStoreMaterial) -> [(String, YAMLValue)] {
            [
                ("keystore", .string("\(directory)/\(storeFileName(side, "keystore", material.storeType))")),
                ("keystore_password", .string(material.password)),
                ("truststore", .string("\(directory)/\(storeFileName(side, "truststore", material.storeType))")),
                // Always rendered: 4.1+ loads a PKCS12 truststore without a password as empty.
                ("truststore_password", .string(material.password)),
                ("store_type", .string(material.storeType.rawValue)),
            ]
        }
        if let settings = tls.internode {
            var fields: [(String, YAMLValue)] = [("internode_encryption", .string(settings.encryption.rawValue))]
            if let internode { fields += stores("internode", internode) }
            fields += tuning(settings.stores)
            fields.append(("require_client_auth", .bool(settings.requireClientAuth)))
            block("server_encryption_options", fields)
        }
        if let settings = tls.client {
            var fields: [(String, YAMLValue)] = [("enabled", .bool(settings.enabled)), ("optional", .bool(settings.optional))]
            if let client { fields += stores("client", client) }
            fields += tuning(settings.stores)
            fields.append(("require_client_auth", .bool(settings.requireClientAuth)))
            block("client_encryption_options", fields)
        }
        return result
    }
}
