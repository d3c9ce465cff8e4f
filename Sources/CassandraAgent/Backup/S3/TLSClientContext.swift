import COpenSSL

/// What an https:// S3 endpoint is checked against, made once per store: TLS 1.2
/// at least, and the server's certificate verified against the system's trust
/// store, or only against the operator's CA bundle (`backup.s3.caFile`) when one
/// is given, as an on-premise store with a private CA needs. Verification cannot
/// be turned off: a backup sent to whoever answers is a copy of the database for them.
final class TLSClientContext: @unchecked Sendable {
    // @unchecked: the SSL_CTX is only read once configured, and OpenSSL locks what connections share in it.
    let context: OpaquePointer

    /// `caCertificates`: PEM certificates (from `caFile`) trusted instead of the system's store; nil: the system's store.
    init(caCertificates: [UInt8]?, caFile: String?) throws(BackupError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw BackupError("cannot set up TLS: \(OpenSSLError.drain())")
        }
        self.context = context
        guard agent_ssl_ctx_min_tls12(context) == 1 else { throw BackupError("cannot require TLS 1.2: \(OpenSSLError.drain())") }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caCertificates {
            let certificates = try S3CAFile.certificates(caCertificates, path: caFile ?? "backup.s3.caFile")
            let store = SSL_CTX_get_cert_store(context)
            for certificate in certificates where X509_STORE_add_cert(store, certificate.x509) != 1 {
                _ = OpenSSLError.drain()  // the same certificate twice in a bundle: harmless
            }
            // The operator named these CAs: one of them may be an intermediate, and trusting it is what was asked.
            X509_STORE_set_flags(store, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw BackupError("cannot load the system's trusted CA certificates: \(OpenSSLError.drain()); install ca-certificates or set backup.s3.caFile")
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// `backup.s3.caFile`: a PEM bundle of the CAs an https:// endpoint's certificate
/// must chain to. Read like the desired state's other inputs (a regular file, at
/// most `FileIO.inputSizeLimit`), and checked when the desired state is validated.
public enum S3CAFile {
    public static func read(_ path: String, environment: [String: String]) throws(BackupError) -> [UInt8] {
        var file = path
        if path.hasPrefix(NodeArtifactsBuilder.credentialPrefix) {
            guard let directory = environment["CREDENTIALS_DIRECTORY"] else {
                throw BackupError("backup.s3.caFile is \(path) but $CREDENTIALS_DIRECTORY is not set: add LoadCredential=\(path.dropFirst(NodeArtifactsBuilder.credentialPrefix.count)):/PATH to the unit")
            }
            file = directory + "/" + path.dropFirst(NodeArtifactsBuilder.credentialPrefix.count)
        }
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(file)
        } catch {
            throw BackupError("backup.s3.caFile: \(error)")
        }
        _ = try certificates(bytes, path: file)
        return bytes
    }

    static func certificates(_ bytes: [UInt8], path: String) throws(BackupError) -> [Certificate] {
        do {
            return try Certificate.readAll(pem: bytes)
        } catch {
            throw BackupError("backup.s3.caFile \(path): \(error.message)")
        }
    }
}
