import Hub

/// Resume: replay stored notifications after `last_id` while live pushes are held, then merge.
/// Live pushes may arrive out of id order (events committed concurrently), so they are never
/// filtered by id order: only a push whose id was just replayed is dropped, as a true duplicate.
extension SessionMachine {
    /// How long after a replay a racing live push of a replayed id is still recognised.
    static let duplicateWindowMillis: Int64 = 10_000

    mutating func startResume(after lastID: Int64) -> [SessionAction] {
        phase = .resuming
        mutateRecovery { $0.replayedCount = 0 }
        return [.loadHistory(after: lastID, limit: configurationPageSize)]
    }

    /// A page of history after `after` (the cursor of the `loadHistory` it answers).
    mutating func historyLoaded(_ result: Result<[StoredPush], any Error>, after: Int64,
                                now: SessionTime) -> [SessionAction]
    {
        guard phase == .resuming else { return [] }
        var actions: [SessionAction] = []
        guard case .success(let items) = result else {
            actions.append(.send(Envelope.error("resume_failed", "History is unavailable; try resuming again", now: now)))
            phase = .live
            releaseHeld(into: &actions)
            return actions
        }
        var cursor = after
        mutateRecovery { recovery in
            for item in items where item.id > cursor {
                actions.append(.send(item.json))
                cursor = item.id
                recovery.replayed.insert(item.id)
            }
            recovery.replayedUntil = now.monotonicMillis + Self.duplicateWindowMillis
            recovery.replayedCount += items.count
        }
        if items.count == configurationPageSize {
            actions.append(.loadHistory(after: cursor, limit: configurationPageSize))
            return actions
        }
        phase = .live
        let replayedMax = recovery?.replayed.max() ?? after
        var sent = recovery?.replayedCount ?? items.count
        var finalID = max(cursor, replayedMax)
        for push in takeHeld() {
            if let id = push.notificationID, recovery?.replayed.contains(id) == true { continue }
            actions.append(.sendPush(push))
            if let id = push.notificationID {
                sent += 1
                finalID = max(finalID, id)
            }
        }
        actions.append(.send(Envelope.make("resumed", now: now.wallMillis) { json in
            json.field("count", sent)
            json.key("last_id"); json.int(finalID)
        }))
        if recovery?.replayed.isEmpty == true { recovery = nil }
        if pendingResume >= 0 {
            let next = pendingResume
            pendingResume = -1
            actions += startResume(after: next)
        }
        return actions
    }

    // MARK: Held pushes and replayed ids

    /// Keeps a push until the session is live.
    mutating func hold(_ push: Push) {
        mutateRecovery { $0.held.append(push) }
    }

    /// Going live without a replay (or after a failed one): every held push, in arrival order,
    /// except true duplicates of ids replayed moments ago.
    mutating func releaseHeld(into actions: inout [SessionAction]) {
        for push in takeHeld() {
            if let id = push.notificationID, recovery != nil, dropIfReplayed(id) { continue }
            actions.append(.sendPush(push))
        }
        if let recovery, recovery.replayed.isEmpty { self.recovery = nil }
    }

    /// True if `id` was replayed and not yet matched by a live push: that push is a duplicate.
    mutating func dropIfReplayed(_ id: Int64) -> Bool {
        guard recovery?.replayed.contains(id) == true else { return false }
        mutateRecovery { $0.replayed.remove(id) }
        if recovery?.replayed.isEmpty == true && recovery?.held.isEmpty == true { recovery = nil }
        return true
    }

    private mutating func takeHeld() -> [Push] {
        guard let held = recovery?.held, !held.isEmpty else { return [] }
        mutateRecovery { $0.held = [] }
        return held
    }

    private var configurationPageSize: Int { settings.configuration.historyPageSize }
}

/// The resume state of one session, allocated only while a resume (or a held push) needs it.
/// A class so an idle session carries one nil pointer; `mutateRecovery` copies it before a write
/// if it is shared, so `SessionMachine` keeps value semantics.
final class Recovery {
    /// Live pushes held while starting or resuming, in arrival order.
    var held: [Push] = []
    /// Ids replayed by the current or last resume, not yet matched by a racing live push.
    var replayed: Set<Int64> = []
    var replayedUntil: Int64 = 0
    var replayedCount = 0

    func copy() -> Recovery {
        let copy = Recovery()
        copy.held = held
        copy.replayed = replayed
        copy.replayedUntil = replayedUntil
        copy.replayedCount = replayedCount
        return copy
    }
}

extension SessionMachine {
    /// Writes to the recovery state, creating it if absent and copying it if another value shares it.
    mutating func mutateRecovery(_ body: (Recovery) -> Void) {
        if recovery == nil {
            recovery = Recovery()
        } else if !isKnownUniquelyReferenced(&recovery) {
            recovery = recovery?.copy()
        }
        body(recovery!)
    }
}
