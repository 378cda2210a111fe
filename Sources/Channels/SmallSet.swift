/// A set that holds zero or one element inline and allocates a `Set` only for a second one:
/// presence counts sessions per user and per room, and almost every user has a single session.
struct SmallSet<Element: Hashable & Sendable>: Sendable {
    private enum Storage: Sendable {
        case empty
        case one(Element)
        case many(Set<Element>)
    }

    private var storage = Storage.empty

    init() {}

    var isEmpty: Bool {
        if case .empty = storage { return true }
        return false
    }

    var count: Int {
        switch storage {
        case .empty: 0
        case .one: 1
        case .many(let set): set.count
        }
    }

    func contains(_ element: Element) -> Bool {
        switch storage {
        case .empty: false
        case .one(let only): only == element
        case .many(let set): set.contains(element)
        }
    }

    mutating func insert(_ element: Element) {
        switch storage {
        case .empty:
            storage = .one(element)
        case .one(let only):
            if only != element { storage = .many([only, element]) }
        case .many(var set):
            storage = .empty
            set.insert(element)
            storage = .many(set)
        }
    }

    mutating func remove(_ element: Element) {
        switch storage {
        case .empty:
            break
        case .one(let only):
            if only == element { storage = .empty }
        case .many(var set):
            storage = .empty
            set.remove(element)
            if set.count == 1, let last = set.first {
                storage = .one(last)
            } else {
                storage = set.isEmpty ? .empty : .many(set)
            }
        }
    }
}
