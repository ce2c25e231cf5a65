import Foundation
import GuestAccessCore
import GuestAccessTestSupport
import Testing

/// docs/ERRORS.md and `ErrorReason` list the same reasons: a reason the server
/// can send is documented, and a documented one exists.
@Suite("Error reasons")
struct ErrorReasonDocsTests {
  /// The reasons in the first column of docs/ERRORS.md's tables (a cell may
  /// name several, comma-separated).
  static func documentedReasons() throws -> [String] {
    let text = try String(contentsOfFile: TestCertificates.repositoryRoot + "/docs/ERRORS.md", encoding: .utf8)
    var reasons: [String] = []
    for line in text.split(separator: "\n") where line.hasPrefix("| ") {
      let cell = line.dropFirst(2).prefix { $0 != "|" }.trimmingCharacters(in: .whitespaces)
      guard cell != "reason", !cell.hasPrefix("---") else { continue }
      reasons += cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }
    return reasons
  }

  @Test func docsListExactlyTheReasonType() throws {
    // A reason may stand in several tables (GUEST_REMOVED: per service).
    let documented = try Self.documentedReasons()
    let known = ErrorReason.allCases.map(\.rawValue)
    #expect(Set(known).count == known.count, "ErrorReason.allCases has duplicates")
    #expect(Set(documented).subtracting(known).sorted() == [], "documented, not in ErrorReason")
    #expect(Set(known).subtracting(documented).sorted() == [], "in ErrorReason, not documented in docs/ERRORS.md")
  }

  @Test func everyReasonIsInTheDomain() {
    for reason in ErrorReason.allCases {
      let error = RPCError(code: .failedPrecondition, message: "m", reason: reason)
      #expect(error.errorInfo?.domain == "guestaccess.v1")
      #expect(error.reason == reason)
      #expect(reason.rawValue.allSatisfy { $0.isUppercase || $0 == "_" })
    }
  }

  /// OK is not an error: trailers with OK read as no error, and
  /// `RPCError.Code` has no OK.
  @Test func okIsNotAnError() {
    #expect(RPCError.Code(.ok) == nil)
    #expect(RPCError(trailers: Trailers()) == nil)
    for status in StatusCode.all where status != .ok {
      #expect(RPCError.Code(status)?.status == status)
    }
  }

  /// The cause stays on this side: not in `==`, not on the wire.
  @Test func causeIsLocal() {
    struct SocketFailure: Error {}
    let plain = RPCError.callNotProcessed("connection refused")
    let caused = RPCError.callNotProcessed("connection refused", cause: SocketFailure())
    #expect(plain == caused)
    #expect(caused.isCallNotProcessed)
    #expect(caused.description.contains("SocketFailure"))
    #expect(RPCError(trailers: caused.trailers) == plain)
    #expect(RPCError(trailers: caused.trailers)?.cause == nil)
  }
}
