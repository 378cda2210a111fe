import Foundation
import Testing
@testable import RESTBridge

/// Escalation policies as the event API and the catalogue read them.
@Suite struct EscalationTests {
    private func parse(_ json: String, allowPriority: Bool = false) -> ([EscalationStep]?, [String]) {
        let value = try! JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        var errors = FieldErrors()
        let steps = EscalationStep.parse(value, field: "escalation", &errors, allowPriority: allowPriority)
        return (steps, errors.fields.map(\.0))
    }

    @Test func readsStepsWithUnreadAsTheDefaultCondition() {
        let (steps, errors) = parse(#"[{"after": 900, "channels": ["sms"]}, {"after": 0, "channels": ["PUSH", "EMAIL"], "if": "offline"}]"#)
        #expect(errors.isEmpty)
        #expect(steps == [EscalationStep(after: 900, channels: [.sms]),
                          EscalationStep(after: 0, channels: [.push, .email], condition: .offline)])
    }

    @Test func namesEveryBadFieldOfEveryStep() {
        #expect(parse(#"{"after": 1}"#).1 == ["escalation"])
        #expect(parse(#"[1, {"after": -1, "channels": ["IN_APP"], "if": "never", "delay": 3}]"#).1
            == ["escalation[0]", "escalation[1].delay", "escalation[1].after", "escalation[1].channels", "escalation[1].if"])
        #expect(parse(#"[{"after": 1, "channels": ["SMS"]}, {"after": 2, "channels": ["EMAIL", "SMS"]}]"#).1
            == ["escalation[1].channels"])
        #expect(parse(#"[{"after": 604801, "channels": ["SMS"]}]"#).1 == ["escalation[0].after"])
        #expect(parse(#"[{"after": 1.5, "channels": ["SMS"]}]"#).1 == ["escalation[0].after"])
        let sixSteps = "[" + Array(repeating: #"{"after": 1, "channels": ["SMS"]}"#, count: 6).joined(separator: ",") + "]"
        #expect(parse(sixSteps).1 == ["escalation"])
        #expect(parse(#"[{"after": 1, "channels": ["SMS"], "priority": "URGENT"}]"#).1 == ["escalation[0].priority"])
    }

    @Test func catalogueStepsMayApplyToOnePriority() {
        let (steps, errors) = parse(#"[{"after": 600, "channels": ["EMAIL"], "priority": "urgent"}, {"after": 60, "channels": ["PUSH"]}]"#,
                                    allowPriority: true)
        #expect(errors.isEmpty)
        let policy = steps ?? []
        #expect(EscalationStep.applying(policy, to: .urgent) == [EscalationStep(after: 600, channels: [.email]),
                                                                EscalationStep(after: 60, channels: [.push])])
        #expect(EscalationStep.applying(policy, to: .high) == [EscalationStep(after: 60, channels: [.push])])
    }

    @Test func theBundledCatalogueEscalatesAttendanceAlertsToSMSAndUrgentSystemAlertsToEmail() throws {
        let catalogue = try EventCatalogue.bundled()
        let sms = [EscalationStep(after: 900, channels: [.sms])]
        #expect(catalogue.entries["ABSENCE_ALERT"]?.escalation == sms)
        #expect(catalogue.entries["attendance_alert"]?.escalation == sms)
        let system = catalogue.entries["system_alert"]?.escalation ?? []
        #expect(EscalationStep.applying(system, to: .urgent) == [EscalationStep(after: 600, channels: [.email])])
        #expect(EscalationStep.applying(system, to: .high).isEmpty)
    }

    @Test func aCatalogueWithABadPolicyIsRefusedWithItsTypeAndField() {
        let json = #"{"events": [{"type": "x", "category": "c", "priority": "LOW", "title": {"en": "", "ar": "", "fr": ""}, "message": {"en": "", "ar": "", "fr": ""}, "escalation": [{"after": 5, "channels": ["FAX"]}]}]}"#
        #expect(throws: EventCatalogue.CatalogueError.self) { try EventCatalogue.parse(Data(json.utf8)) }
        do {
            _ = try EventCatalogue.parse(Data(json.utf8))
        } catch {
            #expect("\(error)".contains("x: escalation[0].channels"))
        }
    }
}
