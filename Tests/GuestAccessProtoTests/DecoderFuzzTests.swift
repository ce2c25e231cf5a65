import Foundation
import GuestAccessProto
import Testing

/// Feeds every decoder random and mutated buffers (at least 100,000 in all):
/// decoding must either succeed or throw `ProtoDecodingError`, never crash,
/// and whatever decodes must survive its own round trip.
///
/// Reproducible: each message type's inputs come from a PRNG seeded with
/// `baseSeed` and the type's name. Set `GA_FUZZ_SEED` to try other seeds and
/// `GA_FUZZ_INPUTS` (total inputs) to run longer.
@Suite struct DecoderFuzzTests {
  /// The default base seed.
  static let baseSeed: UInt64 = ProcessInfo.processInfo.environment["GA_FUZZ_SEED"].flatMap { UInt64($0) }
    ?? 0x6A09_E667_F3BC_C908
  /// Total inputs over all message types.
  static let totalInputs = ProcessInfo.processInfo.environment["GA_FUZZ_INPUTS"].flatMap { Int($0) } ?? 100_000
  /// Inputs per message type, so that every decoder gets an equal share.
  static var inputsPerType: Int { (totalInputs + allMessageSamples.count - 1) / allMessageSamples.count }

  /// Valid encodings of every sample, the pool for splices and nested fields.
  static let corpus: [[UInt8]] = allMessageSamples.map { $0.serializedBytes() }
    + allUnrecognizedEnumSamples.map { $0.serializedBytes() }

  @Test func everyDecoderSharesTheTotal() {
    #expect(Self.inputsPerType * allMessageSamples.count >= Self.totalInputs)
  }

  @Test(arguments: MessageCase.all)
  func decoderSurvivesMutatedInput(_ sample: MessageCase) {
    fuzz(sample.message)
  }

  @Test func inputsOverTheSizeLimitAreRefusedUnread() {
    let huge = [UInt8](repeating: 0, count: (64 << 20) + 1)
    #expect {
      _ = try Invitation(serializedBytes: huge)
    } throws: { error in
      guard let error = error as? ProtoDecodingError else { return false }
      return error.messageName == Invitation.protoName && error.length == huge.count && error.reason.contains("larger")
    }
  }

  @Test func seededGeneratorIsDeterministic() {
    var a = SeededGenerator(seed: 42)
    var b = SeededGenerator(seed: 42)
    #expect((0..<8).map { _ in a.next() } == (0..<8).map { _ in b.next() })
  }

  /// FNV-1a of `text`, to derive a per-type seed that does not depend on order.
  private static func hash(_ text: String) -> UInt64 {
    text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
  }

  private func fuzz<M: ProtoMessage>(_ sample: M) {
    let seed = Self.baseSeed ^ Self.hash(M.protoName)
    let own = [sample.serializedBytes(), M().serializedBytes()]
      + allUnrecognizedEnumSamples.compactMap { ($0 as? M)?.serializedBytes() }
    var mutator = BufferMutator(own: own, others: Self.corpus, random: SeededGenerator(seed: seed))
    var accepted = 0
    var rejected = 0
    var failures: [String] = []
    for index in 0..<Self.inputsPerType {
      let input = mutator.next()
      do throws(ProtoDecodingError) {
        let message = try M(serializedBytes: input)
        accepted += 1
        let bytes = message.serializedBytes()
        if bytes.count != message.serializedSize() {
          failures.append("input \(index): serializedSize \(message.serializedSize()) != \(bytes.count)")
        }
        if (try? M(serializedBytes: bytes)) != message {
          failures.append("input \(index): decoded value does not survive a round trip: \(input)")
        }
      } catch {
        rejected += 1
        if error.messageName != M.protoName || error.length != input.count {
          failures.append("input \(index): error \(error) names the wrong message or length")
        }
      }
      if failures.count >= 5 { break }
    }
    #expect(failures.isEmpty, "\(M.protoName) with seed \(seed): \(failures.joined(separator: "; "))")
    #expect(accepted > 0 && rejected > 0, "\(M.protoName): \(accepted) accepted, \(rejected) rejected")
  }
}
