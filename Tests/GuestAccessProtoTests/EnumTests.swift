import Foundation
import GuestAccessProto
import Testing

/// Open proto3 enums: names, numbers, unknown values and their round trips.
@Suite struct EnumTests {
  /// One enum type as a test-case argument, shown by its Swift name.
  struct EnumCase: Sendable, CustomTestStringConvertible {
    let type: any ProtoEnum.Type
    var testDescription: String { String(describing: type) }
  }

  static let allEnums = allEnumTypes.map(EnumCase.init)

  @Test(arguments: allEnums)
  func namesAndNumbersMapBothWays(_ enumCase: EnumCase) {
    check(enumCase.type)
  }

  @Test(arguments: allEnums)
  func unknownNumbersBecomeUnrecognized(_ enumCase: EnumCase) throws {
    try checkUnknown(enumCase.type)
  }

  @Test(arguments: allEnums)
  func codableUsesSchemaNames(_ enumCase: EnumCase) throws {
    try checkCodable(enumCase.type)
  }

  @Test func concreteCases() throws {
    #expect(UserType(rawValue: 2) == .guest)
    #expect(UserType(rawValue: 99) == .unrecognized(99))
    #expect(UserType.guest.protoName == "USER_TYPE_GUEST")
    #expect(UserType(protoName: "USER_TYPE_GUEST") == .guest)
    #expect(UserType(protoName: "guest") == .guest)
    #expect(UserType(protoName: "Guest") == .guest)
    #expect(UserType(protoName: "2") == .guest)
    #expect(UserType(protoName: "-5") == .unrecognized(-5))
    #expect(UserType(protoName: "USER_TYPE_VISITOR") == nil)
    #expect(UserType(protoName: "") == nil)
    #expect(Role.unrecognized(1) == .globalAdmin, "values compare by number")
    #expect(Set([Role.unrecognized(1), .globalAdmin]).count == 1)
    #expect(UserType.unrecognized(99).protoName == "99")
    #expect("\(InvitationStatus.revoked)" == "INVITATION_STATUS_REVOKED")
  }

  @Test(arguments: allUnrecognizedEnumSamples.map(MessageCase.init))
  func unrecognizedNumbersSurviveAWireRoundTrip(_ sample: MessageCase) throws {
    try checkWireRoundTrip(sample.message)
  }

  @Test func unrecognizedNumbersSurviveInsideMessages() throws {
    var invitation = Invitation.sample()
    invitation.status = .unrecognized(41)
    invitation.invitedUserType = .unrecognized(-1)
    invitation.emailDelivery.status = .unrecognized(Int32.max)
    let decoded = try Invitation(serializedBytes: invitation.serializedBytes())
    #expect(decoded.status == .unrecognized(41))
    #expect(decoded.invitedUserType == .unrecognized(-1))
    #expect(decoded.emailDelivery.status == .unrecognized(Int32.max))
    guard case .unrecognized(41) = decoded.status else {
      Issue.record("status decoded as a declared case: \(decoded.status)")
      return
    }

    var user = User()
    user.roles = [.unrecognized(Int32.min), .guestInviter, .unrecognized(1000)]
    let back = try User(serializedBytes: user.serializedBytes())
    #expect(back.roles.map(\.rawValue) == [Int32.min, Role.guestInviter.rawValue, 1000])
  }

  // MARK: - Generic checks

  /// The upper-snake-case prefix of every value name, e.g. `EMAIL_OTP_MODE_`.
  private func prefix<E: ProtoEnum>(of type: E.Type) -> String {
    var out = ""
    for (index, character) in String(describing: type).enumerated() {
      if character.isUppercase && index > 0 { out += "_" }
      out += character.uppercased()
    }
    return out + "_"
  }

  private func check<E: ProtoEnum>(_ type: E.Type) {
    let cases = E.knownCases
    #expect(!cases.isEmpty)
    #expect(cases.first?.rawValue == 0, "proto3 enums start at 0")
    #expect(Set(cases.map(\.rawValue)).count == cases.count)
    #expect(Set(cases.map(\.protoName)).count == cases.count)
    let prefix = prefix(of: type)
    for value in cases {
      #expect(E(rawValue: value.rawValue) == value)
      #expect(value.protoName.hasPrefix(prefix), "\(value.protoName) lacks the prefix \(prefix)")
      #expect(E(protoName: value.protoName) == value)
      #expect(E(protoName: value.protoName.lowercased()) == value)
      #expect(E(protoName: String(value.protoName.dropFirst(prefix.count))) == value)
      #expect(E(protoName: String(value.rawValue)) == value)
      #expect(value.description == value.protoName)
    }
  }

  private func checkUnknown<E: ProtoEnum>(_ type: E.Type) throws {
    let declared = Set(E.knownCases.map(\.rawValue))
    for number in [Int32.min, -1, 17, 1000, Int32.max] where !declared.contains(number) {
      let value = E(rawValue: number)
      #expect(!E.knownCases.contains(value))
      #expect(value.rawValue == number)
      #expect(value.protoName == String(number))
      #expect(E(protoName: value.protoName) == value)
      let json = try JSONEncoder().encode([value])
      #expect(try JSONDecoder().decode([E].self, from: json) == [value])
    }
    #expect(E(protoName: "NOT_A_DECLARED_VALUE") == nil)
  }

  private func checkCodable<E: ProtoEnum>(_ type: E.Type) throws {
    let json = try JSONEncoder().encode(E.knownCases)
    let names = try JSONDecoder().decode([String].self, from: json)
    #expect(names == E.knownCases.map(\.protoName))
    #expect(try JSONDecoder().decode([E].self, from: json) == E.knownCases)
    let numbers = try JSONEncoder().encode(E.knownCases.map(\.rawValue))
    #expect(try JSONDecoder().decode([E].self, from: numbers) == E.knownCases)
  }

  private func checkWireRoundTrip<M: ProtoMessage>(_ message: M) throws {
    let decoded = try M(serializedBytes: message.serializedBytes())
    #expect(decoded == message)
    #expect(decoded.serializedBytes() == message.serializedBytes())
  }
}
