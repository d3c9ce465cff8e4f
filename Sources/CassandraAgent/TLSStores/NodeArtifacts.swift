#if canImport(Glibc)
import Glibc
#endif

/// Every file a desired state puts on the node: cassandra.yaml,
/// cassandra-rackdc.properties and, with a `tls` section, the keystores and
/// truststores that cassandra.yaml points at.
public struct NodeArtifacts: @unchecked Sendable {
    public struct Store: Sendable {
        public var name: String
        public var bytes: [UInt8]
        /// SHA-256 of what the store is built from: its bytes differ on every build
        /// (random salts), so whether to swap is decided on the inputs.
        public var inputs: String
        public var certificates: [StoreCertificate]
    }

    public struct StoreCertificate: Sendable, Codable, Equatable {
        public var alias: String
        public var subject: String
        public var fingerprint: String
        public var notAfter: Int64
        /// Who signed it: tells the CA chain of this node's own certificate from the other datacenters' certificates.
        public var issuer: String? = nil
    }

    public var config: RenderedNodeConfig
    public var stores: [Store]
    public var warnings: [Diagnostic]

    /// Every file with its bytes, config first.
    public var files: [(name: String, bytes: [UInt8])] {
        config.files.map { ($0.name, Array($0.contents.utf8)) } + stores.map { ($0.name, $0.bytes) }
    }
}

public enum NodeArtifactsBuilder {
    public static let credentialPrefix = "credential:"

    /// Reads a file, or a systemd credential (`credential:NAME`, from $CREDENTIALS_DIRECTORY).
    public static func readInput(_ path: String) throws(SystemError) -> [UInt8] {
        guard path.hasPrefix(credentialPrefix) else { return try FileIO.read(path) }
        guard let directory = getenv("CREDENTIALS_DIRECTORY").map({ String(cString: $0) }) else {
            throw SystemError("read the systemd credential (no $CREDENTIALS_DIRECTORY: give the unit LoadCredential=)", path: path, code: ENOENT)
        }
        return try FileIO.read(directory + "/" + String(path.dropFirst(credentialPrefix.count)))
    }

    /// `storeDirectory` is where the stores will be installed (the paths cassandra.yaml names).
    public static func build(
        _ validated: ValidatedDesiredState, storeDirectory: String, now: Int64, warnDays: Int = 30,
        read: (String) throws(SystemError) -> [UInt8] = { (path: String) throws(SystemError) -> [UInt8] in try NodeArtifactsBuilder.readInput(path) },
        reuse: (_ store: String, _ inputs: String) -> [UInt8]? = { _, _ in nil }
    ) -> Result<NodeArtifacts, InvalidInput> {
        var diagnostics = Diagnostics(file: validated.file)
        var stores: [NodeArtifacts.Store] = []
        var internode: NodeStoreMaterial?, client: NodeStoreMaterial?
        let tls = validated.state.tls
        // Each input is read once per pass (a CA both sides trust included): the fingerprint that decides
        // whether a store is rebuilt must describe the bytes it is built from, even while an operator
        // replaces the files.
        let once = ReadOnce()
        let readOnce = { (path: String) throws(SystemError) -> [UInt8] in try once.read(path, using: read) }
        for (side, inputs) in [("internode", tls?.internode?.stores), ("client", tls?.client?.stores)] {
            guard let inputs else { continue }
            let files = NodeStoreLoader.Files(
                certificate: inputs.certificate.value, privateKey: inputs.privateKey.value, privateKeyPassword: inputs.privateKeyPasswordFile?.value,
                trust: inputs.trust.map(\.value), password: inputs.passwordFile.value, storeType: inputs.storeType)
            do {
                let material = try NodeStoreLoader.load(files, now: now, warnDays: warnDays, read: readOnce)
                let fingerprint = inputFingerprint(files, read: readOnce)
                let keystoreName = EncryptionOptions.storeFileName(side, "keystore", material.storeType)
                let truststoreName = EncryptionOptions.storeFileName(side, "truststore", material.storeType)
                // Inputs unchanged since the installed stores were built: keep those, skip the PBKDF2 work.
                let built: (keystore: [UInt8], truststore: [UInt8])
                if let keystore = reuse(keystoreName, fingerprint), let truststore = reuse(truststoreName, fingerprint) {
                    built = (keystore, truststore)
                } else {
                    let fresh = try material.storeFiles(createdAt: now)
                    built = (fresh.keystore, fresh.truststore)
                }
                let trust = material.trust.map { NodeArtifacts.StoreCertificate(alias: $0.alias, subject: $0.certificate.subject, fingerprint: $0.certificate.fingerprint, notAfter: $0.certificate.notAfter, issuer: $0.certificate.issuer) }
                let chain = material.chain.map { NodeArtifacts.StoreCertificate(alias: NodeStoreMaterial.keyAlias, subject: $0.subject, fingerprint: $0.fingerprint, notAfter: $0.notAfter, issuer: $0.issuer) }
                stores.append(.init(name: keystoreName, bytes: built.keystore, inputs: fingerprint, certificates: Array(chain.prefix(1))))
                stores.append(.init(name: truststoreName, bytes: built.truststore, inputs: fingerprint, certificates: trust))
                for warning in material.warnings { diagnostics.warning("tls.\(side): \(warning)", at: inputs.certificate.mark) }
                if side == "internode" { internode = material } else { client = material }
            } catch {
                diagnostics.error("tls.\(side): \(error.message)", at: mark(for: error.message, in: inputs))
            }
        }
        if diagnostics.hasErrors { return .failure(InvalidInput(diagnostics.sorted)) }
        let extra = tls.map { EncryptionOptions.render(version: validated.state.cassandraVersion, tls: $0, internode: internode, client: client, directory: storeDirectory) } ?? []
        // The renderer is deterministic and never warns: without extra keys, validation's rendering is this one.
        guard let config = extra.isEmpty ? validated.rendered ?? CassandraConfigRenderer.render(validated, &diagnostics)
            : CassandraConfigRenderer.render(validated, extra: extra, &diagnostics) else {
            return .failure(InvalidInput(diagnostics.sorted))
        }
        return .success(NodeArtifacts(config: config, stores: stores, warnings: validated.warnings + diagnostics.sorted.filter { $0.severity == .warning }))
    }

    /// The field whose file the message is about: the earliest named path wins.
    static func mark(for message: String, in inputs: DesiredState.StoreInputs) -> SourceMark {
        let candidates = [inputs.certificate, inputs.privateKey, inputs.passwordFile] + inputs.trust + (inputs.privateKeyPasswordFile.map { [$0] } ?? [])
        let hits = candidates.compactMap { located in message.firstRange(of: located.value).map { (message.distance(from: message.startIndex, to: $0.lowerBound), located.mark) } }
        return hits.min { $0.0 < $1.0 }?.1 ?? inputs.certificate.mark
    }

    static func inputFingerprint(_ files: NodeStoreLoader.Files, read: (String) throws(SystemError) -> [UInt8]) -> String {
        var all: [UInt8] = Array("v1 \(files.storeType.rawValue)\n".utf8)
        for path in [files.certificate, files.privateKey, files.password] + files.trust + (files.privateKeyPassword.map { [$0] } ?? []) {
            all += Array(path.utf8) + [0] + ((try? read(path)) ?? []) + [0]
        }
        return SHA256.hex(all)
    }
}

/// Remembers what each path read as (bytes or error), so a second look at a file in the
/// same pass sees what the first saw, not a replacement written in between.
final class ReadOnce {
    private var seen: [String: Result<[UInt8], SystemError>] = [:]

    func read(_ path: String, using read: (String) throws(SystemError) -> [UInt8]) throws(SystemError) -> [UInt8] {
        if let result = seen[path] { return try result.get() }
        let result: Result<[UInt8], SystemError>
        do { result = .success(try read(path)) } catch { result = .failure(error) }
        seen[path] = result
        return try result.get()
    }
}
