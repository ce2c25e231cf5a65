// swift-tools-version:6.0
// libFuzzer targets for GuestAccess (Scripts/fuzz builds and runs them).
// A separate package: not built by CI. Sources/ holds symlinks to the main
// package's modules, so the fuzzers exercise the very code guestd runs, built
// with -sanitize=fuzzer,address by Scripts/fuzz.
import PackageDescription

let package = Package(
  name: "GuestAccessFuzz",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
  ],
  targets: [
    .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c"),
    .target(name: "CGuestAccessProto", dependencies: ["CProtobufC"]),
    .target(name: "GuestAccessProto", dependencies: ["CGuestAccessProto", "CProtobufC"]),
    .target(name: "GuestAccessLocks", dependencies: ["CGuestAccessPosix"]),
    .target(name: "GuestAccessCore", dependencies: ["GuestAccessProto", "GuestAccessLocks"]),
    .target(name: "GuestAccessAPI", dependencies: ["GuestAccessCore", "GuestAccessProto"]),
    .target(name: "CGuestAccessPosix"),
    .target(name: "GuestAccessWire", dependencies: ["GuestAccessProto", "GuestAccessCore"]),
    .target(
      name: "GuestAccessTransport",
      dependencies: [
        "CGuestAccessPosix", "GuestAccessCore", "GuestAccessWire", "GuestAccessProto", "GuestAccessLocks",
        .product(name: "Logging", package: "swift-log"),
      ]),
    // Frame parser (both APIs, differentially) and the connection preface.
    .executableTarget(name: "fuzz-frames", dependencies: ["GuestAccessWire", "GuestAccessProto"]),
    // Every message decoder, chosen by the input's first byte.
    .executableTarget(name: "fuzz-decoders", dependencies: ["GuestAccessProto"]),
    // The request path of a real TCP server: bytes after the preface go to a
    // ServerConnection, through frame parsing, call headers, metadata
    // validation, routing and request decoding.
    .executableTarget(
      name: "fuzz-dispatch",
      dependencies: ["GuestAccessTransport", "GuestAccessWire", "GuestAccessAPI", "GuestAccessCore", "GuestAccessProto", "CGuestAccessPosix"]),
  ]
)
