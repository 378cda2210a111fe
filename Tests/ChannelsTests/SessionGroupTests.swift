import Testing
@testable import Channels

/// The compact per-user and per-room indexes: one element inline, a collection from the second.
@Suite struct SessionGroupTests {
    @Test func smallSetBehavesAsASet() {
        var set = SmallSet<Int>()
        #expect(set.isEmpty && set.count == 0)
        set.insert(1)
        set.insert(1)
        #expect(set.count == 1 && set.contains(1) && !set.contains(2))
        set.insert(2)
        set.insert(3)
        #expect(set.count == 3 && set.contains(2))
        set.remove(2)
        set.remove(9)
        #expect(set.count == 2 && !set.contains(2))
        set.remove(1)
        #expect(set.count == 1 && set.contains(3))
        set.remove(3)
        #expect(set.isEmpty)
        #expect(MemoryLayout<SmallSet<SessionID>>.size <= 17, "one id inline")
    }

    @Test func aGroupHoldsOneSessionInlineAndMoreInADictionary() {
        let hub = ChannelHub(loopCount: 1, configuration: ChannelConfiguration(), dependencies: .unused, bus: RecordingBus())
        let a = Session(hub: hub, user: nil, pathUserID: nil, resumeFrom: nil)
        let b = Session(hub: hub, user: nil, pathUserID: nil, resumeFrom: nil)
        let c = Session(hub: hub, user: nil, pathUserID: nil, resumeFrom: nil)
        func members(_ group: SessionGroup) -> Set<ObjectIdentifier> {
            var seen = Set<ObjectIdentifier>()
            group.forEach { seen.insert(ObjectIdentifier($0)) }
            return seen
        }
        var group = SessionGroup(a)
        group.insert(a)
        #expect(members(group) == [ObjectIdentifier(a)])
        group.insert(b)
        group.insert(c)
        #expect(members(group).count == 3)
        #expect(group.remove(b) == (true, false))
        #expect(group.remove(b) == (false, false))
        #expect(group.remove(a) == (true, false))
        if case .many = group { Issue.record("back to one inline session") }
        #expect(members(group) == [ObjectIdentifier(c)])
        #expect(group.remove(a) == (false, false))
        #expect(group.remove(c) == (true, true))
    }
}
