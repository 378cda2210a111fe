/// A network failure of a driver's connection; always worth a retry later.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
