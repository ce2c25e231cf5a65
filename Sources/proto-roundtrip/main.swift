// proto-roundtrip: exercises every codec path of GuestAccessProto many times
// so Scripts/leak-check can run it under valgrind. Encodes and decodes every
// message (full sample and default), decodes bytes carrying unknown fields,
// and feeds malformed bytes to every decoder (the error paths free partial
// C messages). Exits 1 if a round trip is not equal.
//
// Usage: proto-roundtrip [iterations]   (default 50)
import GuestAccessProto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 50

/// Counts of what the run did.
struct Tally {
  var failures = 0
  var decoded = 0
  var rejected = 0
}

/// Encodes, decodes and compares `message`; then decodes damaged copies.
func exercise<M: ProtoMessage>(_ message: M, _ tally: inout Tally) {
  for value in [message, M()] {
    let bytes = value.serializedBytes()
    if value.serializedSize() != bytes.count { tally.failures += 1 }
    guard let back = try? M(serializedBytes: bytes), back == value else {
      tally.failures += 1
      continue
    }
    tally.decoded += 1
    // An unknown length-delimited field (number 100000) is kept by protobuf-c
    // in the C message's unknown-field list, which free_unpacked must free.
    let unknown = bytes + [0x82, 0xEA, 0x30, 3, 0x61, 0x62, 0x63]
    if (try? M(serializedBytes: unknown)) != value { tally.failures += 1 }
    // Truncations and an overlong length prefix hit the error paths.
    for cut in [bytes.count / 2, bytes.count - 1] where cut > 0 {
      if (try? M(serializedBytes: bytes[..<cut])) == nil { tally.rejected += 1 }
    }
    if (try? M(serializedBytes: bytes + [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 1])) == nil { tally.rejected += 1 }
  }
}

var tally = Tally()
for _ in 0..<iterations {
  for sample in allMessageSamples {
    exercise(sample, &tally)
  }
}

print("proto-roundtrip: \(iterations) iterations over \(allMessageSamples.count) messages: \(tally.decoded) round trips, \(tally.rejected) malformed inputs rejected, \(tally.failures) failures")
if tally.failures > 0 {
  exit(1)
}
