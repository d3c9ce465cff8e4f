import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// TLS over a connected `SocketIO`. OpenSSL only encrypts and decrypts, between
/// two memory BIOs; every byte on the wire goes through SocketIO, so the socket's
/// timeouts, MSG_NOSIGNAL (OpenSSL's own socket BIO would write() and raise
/// SIGPIPE on a closed connection) and its error sentences hold for https too.
/// The handshake sends the host name (SNI, for a DNS name) and checks that the
/// certificate is for it, DNS name or IP address.
final class TLSStream {
    let ssl: OpaquePointer
    let socket: SocketIO
    /// Ciphertext from and to the wire.
    private var wire = [UInt8](repeating: 0, count: 64 << 10)

    init(context: TLSClientContext, socket: SocketIO) throws(BackupError) {
        guard let ssl = SSL_new(context.context), let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            throw BackupError("cannot set up TLS: \(OpenSSLError.drain())")
        }
        self.ssl = ssl
        self.socket = socket
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
        let host = socket.host
        if Self.isIPAddress(host) {
            // No SNI for an address (RFC 6066); the certificate must name it as an IP SAN.
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else { throw BackupError("cannot check certificates for \(host): \(OpenSSLError.drain())") }
        } else {
            guard SSL_set1_host(ssl, host) == 1, agent_ssl_set_sni(ssl, host) == 1 else {
                throw BackupError("cannot check certificates for \(host): \(OpenSSLError.drain())")
            }
        }
        do {
            _ = try drive(handshake: true) { SSL_connect(ssl) }
        } catch {
            throw handshakeFailure(error)
        }
    }

    deinit { SSL_free(ssl) }

    var peer: String { "\(socket.host):\(socket.port)" }

    /// Says goodbye (close_notify) when it can; the caller closes the socket.
    func shutdown() {
        ERR_clear_error()
        if SSL_shutdown(ssl) >= 0 { try? flush() }
        ERR_clear_error()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        var offset = 0
        while offset < bytes.count {
            // Slices bound the ciphertext buffered before it is sent.
            let count = min(bytes.count - offset, 256 << 10)
            let base = bytes.baseAddress! + offset
            offset += Int(try drive { SSL_write(ssl, base, Int32(count)) })
        }
    }

    /// Some plaintext into `buffer`; 0 when the server closed the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        Int(try drive { SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max)))) })
    }

    /// Runs an SSL call until it is done, sending what it wrote and feeding it what the server sent.
    /// Returns its positive result, or 0 when the server closed the connection.
    private func drive(handshake: Bool = false, _ call: () -> Int32) throws(BackupError) -> Int32 {
        while true {
            ERR_clear_error()
            let result = call()
            let error = SSL_get_error(ssl, result)
            try flush()
            if result > 0 { return result }
            switch error {
            case SSL_ERROR_WANT_READ:
                let n = try BackupError.typed { try wire.withUnsafeMutableBytes { try socket.receive(into: $0) } }
                if n == 0 {
                    if handshake { throw BackupError("\(peer) closed the connection during the TLS handshake") }
                    return 0
                }
                _ = wire.withUnsafeBytes { BIO_write(SSL_get_rbio(ssl), $0.baseAddress, Int32(n)) }
            case SSL_ERROR_ZERO_RETURN:
                return 0
            default:
                throw BackupError("TLS error with \(peer): \(OpenSSLError.drain())")
            }
        }
    }

    /// Sends every byte of ciphertext OpenSSL has written.
    private func flush() throws(BackupError) {
        let output = SSL_get_wbio(ssl)
        while BIO_ctrl_pending(output) > 0 {
            let n = wire.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32($0.count)) }
            guard n > 0 else { return }
            try BackupError.typed { try wire.withUnsafeBytes { try socket.sendAll(UnsafeRawBufferPointer(rebasing: $0[0..<Int(n)])) } }
        }
    }

    /// The handshake's failure as an operator reads it: why the certificate was refused, and what to do.
    private func handshakeFailure(_ error: BackupError) -> BackupError {
        let verify = SSL_get_verify_result(ssl)
        guard verify != X509_V_OK else {
            let hint = error.message.contains("wrong version number") || error.message.contains("packet length too long")
                ? " (the endpoint may not speak TLS: is it an http:// endpoint?)" : ""
            return BackupError("TLS handshake with \(peer) failed: \(error.message)\(hint)")
        }
        let reason = String(cString: X509_verify_cert_error_string(verify))
        let hint: String
        switch Int32(verify) {
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            hint = "the certificate the server presented is not for \(socket.host)"
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            hint = "the server's certificate does not chain to a CA the agent trusts: set backup.s3.caFile to the store's CA bundle (or install it in the system's trust store)"
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
            hint = "check the server's certificate and this host's clock"
        default:
            hint = "the server's certificate was refused"
        }
        return BackupError("certificate verify failed: \(reason) for \(peer); \(hint)")
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
