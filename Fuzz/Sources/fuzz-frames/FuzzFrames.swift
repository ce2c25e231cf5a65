import GuestAccessProto
import GuestAccessWire

/// Input: byte 0 picks the payload limit and byte 1 the chunk size the rest
/// is fed in. The same bytes go through `parse(_:_:)` (in place, in chunks)
/// and through `append` + `next()` (buffered, all at once): both must report
/// the same events, or the same first violation. Frames whose type carries a
/// protobuf payload are decoded as the connection would (must not crash).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = UnsafeBufferPointer(start: data, count: size)
  guard size >= 2 else { return 0 }
  if size >= 2 + Preface.size {
    _ = try? Preface.validate(input[2..<(2 + Preface.size)])
  }
  let maxPayload = [0, 1, 12, 64, 1024, 4 << 20][Int(input[0]) % 6]
  let chunk = max(1, Int(input[1]))
  let body = Array(input[2...])

  var inPlace = FrameParser(maxPayload: maxPayload)
  var eventsA: [FrameEvent] = []
  var errorA: ProtocolViolation?
  body.withUnsafeBytes { raw in
    var offset = 0
    while offset < raw.count && errorA == nil {
      let end = min(raw.count, offset + chunk)
      do throws(ProtocolViolation) {
        try inPlace.parse(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { event throws(ProtocolViolation) in
          eventsA.append(event)
        }
      } catch {
        errorA = error
      }
      offset = end
    }
  }

  var buffered = FrameParser(maxPayload: maxPayload)
  var eventsB: [FrameEvent] = []
  var errorB: ProtocolViolation?
  buffered.append(body)
  do throws(ProtocolViolation) {
    while let event = try buffered.next() { eventsB.append(event) }
  } catch {
    errorB = error
  }
  // `next()` reports an oversized frame once, then skips its payload as more
  // bytes are appended; with every byte appended at once both must agree.
  precondition(eventsA == eventsB, "parse and next disagree: \(eventsA.count) vs \(eventsB.count) events")
  precondition((errorA == nil) == (errorB == nil), "parse and next disagree on the violation: \(String(describing: errorA)) vs \(String(describing: errorB))")
  if errorA == nil {
    precondition(inPlace.bufferedBytes == buffered.bufferedBytes, "buffered bytes differ")
    precondition(inPlace.skippingBytes == buffered.skippingBytes, "skipped bytes differ")
  }
  for case .frame(let frame) in eventsA {
    switch frame.header.frameType {
    case .headers: _ = try? CallHeaders(serializedBytes: frame.payload)
    case .trailers: _ = try? Trailers(serializedBytes: frame.payload)
    case .goAway: _ = try? GoAway(serializedBytes: frame.payload)
    default: break
    }
    // Re-encoding a parsed frame gives back its bytes.
    var encoded: [UInt8] = []
    frame.header.encode(into: &encoded)
    precondition(encoded.count == FrameHeader.size)
  }
  return 0
}
