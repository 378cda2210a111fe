import COpenSSL
import Foundation

/// The opening handshake (RFC 6455 §4.2): checks an upgrade request and builds the 101 answer.
public enum WebSocketHandshake {
    /// The 101 to send, or the error response that refuses the upgrade.
    public enum Outcome {
        case accept(HTTPResponse)
        case refuse(HTTPResponse)
    }

    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept`: base64(SHA-1(key + GUID)), SHA-1 from OpenSSL.
    public static func acceptValue(for key: String) -> String {
        let input = Array((key + guid).utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        _ = input.withUnsafeBufferPointer { source in
            digest.withUnsafeMutableBufferPointer { SHA1(source.baseAddress, source.count, $0.baseAddress) }
        }
        return Data(digest).base64EncodedString()
    }

    /// The 101 response for a valid upgrade request, or the error response that refuses it.
    public static func response(to request: HTTPRequest, subprotocols: [String] = [],
                                originAllowed: (String?) -> Bool = { _ in true }) -> Outcome
    {
        guard request.method == .GET else {
            return .refuse(.error(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", message: "WebSocket upgrades use GET",
                                   headers: HTTPHeaders([("Allow", "GET")])))
        }
        let upgrade = request.headers.hasToken("websocket", in: "Upgrade")
        guard upgrade, request.headers.hasToken("upgrade", in: "Connection"), request.version == .http11 else {
            return .refuse(.error(.upgradeRequired, code: "UPGRADE_REQUIRED", message: "This endpoint speaks WebSocket",
                                   headers: HTTPHeaders([("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")])))
        }
        guard request.headers.values("Sec-WebSocket-Version").map({ $0.trimmingSpaces }) == ["13"] else {
            return .refuse(.error(.upgradeRequired, code: "UNSUPPORTED_WEBSOCKET_VERSION",
                                   message: "Only WebSocket version 13 is supported",
                                   headers: HTTPHeaders([("Sec-WebSocket-Version", "13")])))
        }
        let keys = request.headers.values("Sec-WebSocket-Key")
        guard keys.count == 1, let decoded = Data(base64Encoded: keys[0].trimmingSpaces), decoded.count == 16 else {
            return .refuse(.error(.badRequest, code: "BAD_WEBSOCKET_KEY",
                                   message: "Sec-WebSocket-Key must be 16 random bytes in base64"))
        }
        guard originAllowed(request.headers["Origin"]) else {
            return .refuse(.error(.forbidden, code: "ORIGIN_NOT_ALLOWED", message: "Origin not allowed"))
        }
        var headers = HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", acceptValue(for: keys[0].trimmingSpaces)),
        ])
        let offered = request.headers.values("Sec-WebSocket-Protocol").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces }
        if let chosen = offered.first(where: { subprotocols.contains($0) }) {
            headers.add("Sec-WebSocket-Protocol", chosen)
        }
        return .accept(HTTPResponse(status: .switchingProtocols, headers: headers))
    }
}
