import Foundation

/// Files read once at start-up and served from memory (no file reads on a loop thread).
public struct StaticFiles: Sendable {
    public let files: [String: (type: String, bytes: [UInt8])]

    /// Loads every regular file under `directory` (not following hidden files), keyed by relative path.
    public init(directory: URL) {
        var files: [String: (String, [UInt8])] = [:]
        let root = directory.standardizedFileURL.path
        if let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey],
                                                       options: [.skipsHiddenFiles])
        {
            for case let url as URL in walker {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
                      let data = try? Data(contentsOf: url)
                else { continue }
                let relative = String(url.standardizedFileURL.path.dropFirst(root.count + 1))
                files[relative] = (Self.contentType(of: url.pathExtension), Array(data))
            }
        }
        self.files = files
    }

    public static func contentType(of fileExtension: String) -> String {
        switch fileExtension.lowercased() {
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "ts": "application/typescript; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "png": "image/png"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }

    public func response(for path: String) -> HTTPResponse? {
        guard let file = files[path] else { return nil }
        return HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", file.type), ("Cache-Control", "no-cache"),
                                                               ("X-Content-Type-Options", "nosniff")]), body: file.bytes)
    }
}

extension Router {
    /// Serves `files` under `prefix` (`/static/` → `/static/{path...}`).
    public mutating func serve(_ files: StaticFiles, at prefix: String) {
        get(prefix + "{path...}") { request, responder in
            responder.respond(files.response(for: request.parameter("path") ?? "")
                ?? .error(.notFound, code: "NOT_FOUND", message: "Not found"))
        }
    }
}
