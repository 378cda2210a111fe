import COpenSSL

/// How a client checks the server's certificate.
public struct TLSOptions: Sendable {
    /// PEM file of trusted CAs; nil uses the system's.
    public var caFile: String?
    /// Accept any certificate (local test servers only; never for real providers).
    public var allowSelfSigned = false

    public init(caFile: String? = nil, allowSelfSigned: Bool = false) {
        self.caFile = caFile
        self.allowSelfSigned = allowSelfSigned
    }

    /// A client context that verifies the chain (unless `allowSelfSigned`); the caller frees it.
    func makeContext() throws -> OpaquePointer {
        guard let method = TLS_client_method(), let context = SSL_CTX_new(method) else { throw TransportError("TLS unavailable") }
        if allowSelfSigned {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            if let caFile {
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    SSL_CTX_free(context)
                    throw TransportError("cannot load CA file \(caFile)")
                }
            } else {
                SSL_CTX_set_default_verify_paths(context)
            }
        }
        return context
    }

    /// A session on `context` for `host`: SNI always, host-name verification unless `allowSelfSigned`.
    func makeSSL(_ context: OpaquePointer, host: String) throws -> OpaquePointer {
        guard let ssl = SSL_new(context) else { throw TransportError("TLS unavailable") }
        _ = host.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        if !allowSelfSigned { _ = X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), host, 0) }
        return ssl
    }

    /// The first queued OpenSSL error as text (and the queue cleared).
    static func lastError() -> String {
        let code = ERR_get_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return "unknown" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A client TLS context (trusted CAs, verification mode) made once, on the thread that builds a
/// client, so that no CA file is read on an event loop; every session of that client shares it.
/// @unchecked Sendable: the SSL_CTX is not changed after init, and OpenSSL locks its reference counts.
final class TLSContext: @unchecked Sendable {
    let options: TLSOptions
    let pointer: OpaquePointer

    init(options: TLSOptions) throws {
        self.options = options
        pointer = try options.makeContext()
    }

    deinit { SSL_CTX_free(pointer) }
}

/// A TLS client session that never touches a socket: ciphertext goes in and out through memory
/// BIOs, so it runs on an event loop beside any non-blocking connection. The owner feeds what the
/// socket read (`receive`), sends what `takeOutput` returns, and reads plaintext with `read`.
final class TLSSession {
    enum Progress { case done, needMoreInput }

    private let context: TLSContext
    private let ssl: OpaquePointer
    /// Owned by `ssl` after SSL_set_bio; kept to read and write them.
    private let input: OpaquePointer
    private let output: OpaquePointer
    private let host: String

    init(host: String, context: TLSContext) throws {
        self.host = host
        self.context = context
        ssl = try context.options.makeSSL(context.pointer, host: host)
        input = BIO_new(BIO_s_mem())
        output = BIO_new(BIO_s_mem())
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
    }

    /// Ciphertext from the socket.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        _ = BIO_write(input, bytes.baseAddress, Int32(bytes.count))
    }

    /// Advances the handshake with what was received; the certificate is checked here.
    func handshake() throws -> Progress {
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .done }
        let code = SSL_get_error(ssl, result)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return .needMoreInput }
        let verify = SSL_get_verify_result(ssl)
        let reason = verify != X509_V_OK ? String(cString: X509_verify_cert_error_string(verify)) : TLSOptions.lastError()
        throw TransportError("TLS handshake with \(host) failed: \(reason)")
    }

    /// Encrypts `plaintext` into the output (memory BIOs never refuse a write).
    func write(_ plaintext: [UInt8]) throws {
        guard !plaintext.isEmpty else { return }
        let written = plaintext.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        guard written == plaintext.count else { throw TransportError("TLS write to \(host) failed: \(TLSOptions.lastError())") }
    }

    /// All plaintext that can be decrypted from what was received; nil once the peer closed TLS.
    func read() throws -> [UInt8]? {
        var plaintext: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                plaintext.append(contentsOf: chunk[0..<Int(count)])
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return plaintext
            case SSL_ERROR_ZERO_RETURN: return plaintext.isEmpty ? nil : plaintext
            default: throw TransportError("TLS read from \(host) failed: \(TLSOptions.lastError())")
            }
        }
    }

    /// Ciphertext waiting to go to the socket.
    func takeOutput() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(output))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let count = bytes.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32($0.count)) }
        return count > 0 ? Array(bytes.prefix(Int(count))) : []
    }
}
