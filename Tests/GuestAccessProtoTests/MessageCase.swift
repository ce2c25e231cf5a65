import GuestAccessProto
import Testing

/// One message sample as a test-case argument, shown by its protobuf name.
struct MessageCase: Sendable, CustomTestStringConvertible {
  /// The sample message.
  let message: any ProtoMessage

  var testDescription: String { type(of: message).protoName }

  /// Every message type, with its fully populated sample.
  static let all: [MessageCase] = allMessageSamples.map(MessageCase.init)
}
