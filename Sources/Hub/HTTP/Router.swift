/// A request handler: answers through the responder, now or later, from any thread.
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

/// Method + path routing with `{name}` parameters (`/api/v1/notifications/{id}/read/`) and a
/// trailing `{name...}` that takes the rest of the path. Trailing slashes are optional when
/// matching, so `/api/health` and `/api/health/` reach the same handler. Built before the server
/// starts, then read-only.
public struct Router: Sendable {
    public enum Match {
        case found(HTTPHandler, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    private struct Node: Sendable {
        var literals: [String: Node] = [:]
        var parameterName: String?
        var parameterChild: [Node] = []
        var restName: String?
        var restHandlers: [HTTPMethod: HTTPHandler] = [:]
        var handlers: [HTTPMethod: HTTPHandler] = [:]
    }

    private var root = Node()

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping HTTPHandler) {
        let segments = pattern.split(separator: "/").map(String.init)
        Self.insert(&root, segments[...], method, handler)
    }

    public mutating func get(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.GET, pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.POST, pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.PUT, pattern, handler) }
    public mutating func patch(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.PATCH, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping HTTPHandler) { add(.DELETE, pattern, handler) }

    private static func insert(_ node: inout Node, _ segments: ArraySlice<String>, _ method: HTTPMethod,
                               _ handler: @escaping HTTPHandler)
    {
        guard let first = segments.first else {
            node.handlers[method] = handler
            return
        }
        if first.hasPrefix("{") && first.hasSuffix("...}") {
            precondition(segments.count == 1, "a {rest...} parameter must be the last segment")
            node.restName = String(first.dropFirst().dropLast(4))
            node.restHandlers[method] = handler
        } else if first.hasPrefix("{") && first.hasSuffix("}") {
            let name = String(first.dropFirst().dropLast())
            precondition(node.parameterName == nil || node.parameterName == name, "conflicting parameter names at {\(name)}")
            node.parameterName = name
            if node.parameterChild.isEmpty { node.parameterChild = [Node()] }
            insert(&node.parameterChild[0], segments.dropFirst(), method, handler)
        } else {
            insert(&node.literals[first, default: Node()], segments.dropFirst(), method, handler)
        }
    }

    /// Finds the handler for a method and a (percent-encoded) path.
    public func match(_ method: HTTPMethod, path: String) -> Match {
        let segments = path.utf8.split(separator: UInt8(ascii: "/")).map { PercentDecoding.decode($0, plusAsSpace: false) }
        var parameters: [String: String] = [:]
        guard let handlers = Self.find(root, segments[...], &parameters) else { return .notFound }
        if let handler = handlers[method] ?? (method == .HEAD ? handlers[.GET] : nil) {
            return .found(handler, parameters: parameters)
        }
        return .methodNotAllowed(allowed: Self.allowed(handlers))
    }

    /// The methods a path accepts (for `Allow` and CORS preflight), empty if the path is unknown.
    public func allowedMethods(path: String) -> [HTTPMethod] {
        let segments = path.utf8.split(separator: UInt8(ascii: "/")).map { PercentDecoding.decode($0, plusAsSpace: false) }
        var parameters: [String: String] = [:]
        guard let handlers = Self.find(root, segments[...], &parameters) else { return [] }
        return Self.allowed(handlers)
    }

    private static func allowed(_ handlers: [HTTPMethod: HTTPHandler]) -> [HTTPMethod] {
        var methods = Array(handlers.keys)
        if handlers[.GET] != nil && handlers[.HEAD] == nil { methods.append(.HEAD) }
        methods.append(.OPTIONS)
        return methods.sorted { $0.description < $1.description }
    }

    private static func find(_ node: Node, _ segments: ArraySlice<String>, _ parameters: inout [String: String])
        -> [HTTPMethod: HTTPHandler]?
    {
        guard let first = segments.first else {
            if !node.handlers.isEmpty { return node.handlers }
            return nil
        }
        if let child = node.literals[first], let found = find(child, segments.dropFirst(), &parameters) {
            return found
        }
        if let name = node.parameterName, let child = node.parameterChild.first {
            parameters[name] = first
            if let found = find(child, segments.dropFirst(), &parameters) { return found }
            parameters[name] = nil
        }
        if let rest = node.restName {
            parameters[rest] = segments.joined(separator: "/")
            return node.restHandlers
        }
        return nil
    }
}
