#!/usr/bin/env python3
"""Swift code generator for GuestAccess.

Reads a binary FileDescriptorSet produced by
`protoc --include_source_info --descriptor_set_out=...` and writes:

  * Swift value types (structs and enums) for every message and enum, bridged
    to the protoc-c generated C codecs (module CGuestAccessProto), into
    Sources/GuestAccessProto/Generated/<file>.pb.swift;
  * service descriptors, server protocols and typed client stubs for every
    service into Sources/GuestAccessAPI/Generated/<file>.rpc.swift (names, method
    descriptors, client stubs) and Sources/GuestAccessServerAPI/Generated/<file>.service.swift
    (the protocol a server implements, its router registration);
  * a test-support file with a fully populated sample of every message into
    Tests/GuestAccessProtoTests/Generated/Samples.swift, and the same samples
    for the valgrind leak check into Sources/proto-roundtrip/Generated/Samples.swift;
  * guest-load's table of callable methods (descriptor, request and response
    types of every method) into Sources/GuestLoadKit/Generated/CallableMethods.swift;
  * test-only tables (every enum type, every message's proto field names,
    samples holding unrecognized enum numbers) into
    Tests/GuestAccessProtoTests/Generated/SchemaTables.swift.

The descriptor set is read with `descriptor_pb2` from Debian's python3-protobuf
(named fields, not field numbers). Run it through Scripts/generate, never by hand.
"""
import os
import re
import sys

from google.protobuf import descriptor_pb2

# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

_F = descriptor_pb2.FieldDescriptorProto
TYPE_DOUBLE, TYPE_FLOAT, TYPE_INT64, TYPE_UINT64, TYPE_INT32 = (
    _F.TYPE_DOUBLE, _F.TYPE_FLOAT, _F.TYPE_INT64, _F.TYPE_UINT64, _F.TYPE_INT32)
TYPE_BOOL, TYPE_STRING, TYPE_MESSAGE, TYPE_BYTES, TYPE_UINT32, TYPE_ENUM = (
    _F.TYPE_BOOL, _F.TYPE_STRING, _F.TYPE_MESSAGE, _F.TYPE_BYTES, _F.TYPE_UINT32, _F.TYPE_ENUM)
LABEL_REPEATED = _F.LABEL_REPEATED
# Field numbers of FileDescriptorProto / DescriptorProto / EnumDescriptorProto /
# ServiceDescriptorProto, as they appear in SourceCodeInfo location paths.
PATH_MESSAGE_TYPE = descriptor_pb2.FileDescriptorProto.MESSAGE_TYPE_FIELD_NUMBER
PATH_ENUM_TYPE = descriptor_pb2.FileDescriptorProto.ENUM_TYPE_FIELD_NUMBER
PATH_SERVICE = descriptor_pb2.FileDescriptorProto.SERVICE_FIELD_NUMBER
PATH_FIELD = descriptor_pb2.DescriptorProto.FIELD_FIELD_NUMBER
PATH_ENUM_VALUE = descriptor_pb2.EnumDescriptorProto.VALUE_FIELD_NUMBER
PATH_METHOD = descriptor_pb2.ServiceDescriptorProto.METHOD_FIELD_NUMBER

SCALARS = {
    TYPE_DOUBLE: ("Double", "Double", "0"),
    TYPE_INT64: ("Int64", "Int64", "0"),
    TYPE_UINT64: ("UInt64", "UInt64", "0"),
    TYPE_INT32: ("Int32", "Int32", "0"),
    TYPE_UINT32: ("UInt32", "UInt32", "0"),
}

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
    "init", "inout", "internal", "let", "open", "operator", "private", "protocol", "public",
    "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "continue",
    "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return",
    "switch", "where", "while", "as", "catch", "false", "is", "nil", "super", "self", "Self",
    "throw", "throws", "true", "try", "Type", "Protocol", "any", "some",
}
C_RESERVED = {"base", "auto", "char", "const", "default", "double", "float", "int", "long",
              "register", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
              "union", "unsigned", "void", "volatile", "while", "enum", "extern", "goto", "return"}


def camel_to_lower(name):
    """protoc-c's CamelToLower: '_' before an upper-case letter that follows a non-upper one."""
    out = []
    was_upper = True
    for ch in name:
        if ch.isupper():
            if not was_upper:
                out.append("_")
            out.append(ch.lower())
            was_upper = True
        else:
            out.append(ch)
            was_upper = False
    return "".join(out)


def lower_camel(snake):
    parts = snake.split("_")
    s = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    s = re.sub(r"Id$", "ID", s)
    s = re.sub(r"Id([A-Z])", r"ID\1", s)
    s = re.sub(r"Ids$", "IDs", s)
    s = re.sub(r"Url$", "URL", s)
    s = re.sub(r"Url([A-Z])", r"URL\1", s)
    return s


def swift_ident(name):
    return "`%s`" % name if name in SWIFT_KEYWORDS else name


class Field:
    pass


class Message:
    pass


class Enum:
    pass


class Service:
    pass


def doc_lines(comment, indent):
    if not comment:
        return []
    lines = [l.strip() for l in comment.strip("\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return ["%s/// %s" % (indent, l) if l else "%s///" % indent for l in lines]


def load(descriptor_path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(descriptor_path, "rb") as f:
        fds.ParseFromString(f.read())
    files = []
    for fd in fds.file:
        file = {"name": fd.name, "package": fd.package, "messages": [], "enums": [],
                "services": []}
        comments = {}
        for loc in fd.source_code_info.location:
            comments[tuple(loc.path)] = (loc.leading_comments + "\n" + loc.trailing_comments).strip()
        package = file["package"]
        c_prefix = "__".join(p[:1].upper() + p[1:] for p in package.split("."))
        fn_prefix = "__".join(camel_to_lower(p) for p in package.split("."))
        for i, md in enumerate(fd.message_type):
            m = Message()
            m.name = md.name
            m.full_name = package + "." + m.name
            m.c_type = c_prefix + "__" + m.name
            m.c_fn = fn_prefix + "__" + camel_to_lower(m.name)
            m.doc = comments.get((PATH_MESSAGE_TYPE, i), "")
            if md.nested_type:
                raise SystemExit("nested messages are not supported: %s" % m.full_name)
            if md.oneof_decl:
                raise SystemExit("oneof is not supported: %s" % m.full_name)
            m.fields = []
            for j, fdp in enumerate(md.field):
                f = Field()
                f.name = fdp.name
                if f.name in C_RESERVED:
                    raise SystemExit("field name %s.%s clashes with C" % (m.full_name, f.name))
                f.number = fdp.number
                f.repeated = fdp.label == LABEL_REPEATED
                f.type = fdp.type
                f.type_name = fdp.type_name.lstrip(".")
                if fdp.proto3_optional:
                    raise SystemExit("proto3 optional is not supported: %s.%s" % (m.full_name, f.name))
                f.swift_name = lower_camel(f.name)
                f.doc = comments.get((PATH_MESSAGE_TYPE, i, PATH_FIELD, j), "")
                if f.type not in SCALARS and f.type not in (TYPE_BOOL, TYPE_STRING, TYPE_MESSAGE,
                                                            TYPE_BYTES, TYPE_ENUM):
                    raise SystemExit("unsupported field type %d in %s.%s" % (f.type, m.full_name, f.name))
                m.fields.append(f)
            file["messages"].append(m)
        for i, ed in enumerate(fd.enum_type):
            e = Enum()
            e.name = ed.name
            e.full_name = package + "." + e.name
            e.c_type = c_prefix + "__" + e.name
            e.doc = comments.get((PATH_ENUM_TYPE, i), "")
            prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", e.name).upper() + "_"
            e.prefix = prefix
            e.values = []
            for j, vd in enumerate(ed.value):
                vname = vd.name
                case = vname[len(prefix):] if vname.startswith(prefix) else vname
                case = lower_camel(case.lower())
                if case[:1].isdigit():
                    case = "_" + case
                e.values.append((vname, vd.number, swift_ident(case),
                                 comments.get((PATH_ENUM_TYPE, i, PATH_ENUM_VALUE, j), "")))
            file["enums"].append(e)
        for i, sd in enumerate(fd.service):
            s = Service()
            s.name = sd.name
            s.full_name = package + "." + s.name
            s.doc = comments.get((PATH_SERVICE, i), "")
            s.methods = []
            for j, mdp in enumerate(sd.method):
                if mdp.client_streaming:
                    raise SystemExit("client streaming is not supported: %s" % s.full_name)
                idempotency = mdp.options.idempotency_level
                s.methods.append({
                    "name": mdp.name,
                    "input": mdp.input_type.lstrip(".").split(".")[-1],
                    "output": mdp.output_type.lstrip(".").split(".")[-1],
                    "server_streaming": mdp.server_streaming,
                    "idempotent": idempotency in (descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
                                                  descriptor_pb2.MethodOptions.IDEMPOTENT),
                    "doc": comments.get((PATH_SERVICE, i, PATH_METHOD, j), ""),
                })
            file["services"].append(s)
        files.append(file)
    return files

# --------------------------------------------------------------------------
# Swift emission: messages and enums
# --------------------------------------------------------------------------

HEADER = "// DO NOT EDIT. Generated by Scripts/generate from %s.\n// Source: Protos/%s\n"


def swift_type(f, enums, messages):
    if f.type in SCALARS:
        base = SCALARS[f.type][0]
    elif f.type == TYPE_BOOL:
        base = "Bool"
    elif f.type == TYPE_STRING:
        base = "String"
    elif f.type == TYPE_BYTES:
        base = "[UInt8]"
    elif f.type == TYPE_ENUM:
        base = enums[f.type_name].name
    else:
        base = messages[f.type_name].name
    return "[%s]" % base if f.repeated else base


def default_value(f, enums):
    if f.repeated:
        return "[]"
    if f.type in SCALARS:
        return "0"
    return {TYPE_BOOL: "false", TYPE_STRING: '""', TYPE_BYTES: "[]"}.get(
        f.type, ".init()" if f.type == TYPE_MESSAGE else enums.get(f.type_name) and
        "." + enums[f.type_name].values[0][2])


def emit_enum(e, out):
    out.extend(doc_lines(e.doc, ""))
    out.append("public enum %s: ProtoEnum {" % e.name)
    for vname, number, case, doc in e.values:
        out.extend(doc_lines(doc, "  "))
        out.append("  /// `%s` = %d" % (vname, number))
        out.append("  case %s" % case)
    out.append("  /// A value this version of the schema does not know (proto3 open enum).")
    out.append("  case unrecognized(Int32)")
    out.append("")
    out.append("  /// Every value the schema declares, in declaration order.")
    out.append("  public static let knownCases: [%s] = [%s]" % (e.name, ", ".join("." + v[2] for v in e.values)))
    out.append("")
    out.append("  /// Creates the value for a wire number; unknown numbers become `.unrecognized`.")
    out.append("  public init(rawValue: Int32) {")
    out.append("    switch rawValue {")
    for vname, number, case, doc in e.values:
        out.append("    case %d: self = .%s" % (number, case))
    out.append("    default: self = .unrecognized(rawValue)")
    out.append("    }")
    out.append("  }")
    out.append("")
    out.append("  /// The wire number.")
    out.append("  public var rawValue: Int32 {")
    out.append("    switch self {")
    for vname, number, case, doc in e.values:
        out.append("    case .%s: return %d" % (case, number))
    out.append("    case .unrecognized(let value): return value")
    out.append("    }")
    out.append("  }")
    out.append("")
    out.append("  /// The name declared in the schema (for example `%s`), or the number if unknown." % e.values[0][0])
    out.append("  public var protoName: String {")
    out.append("    switch self {")
    for vname, number, case, doc in e.values:
        out.append('    case .%s: return "%s"' % (case, vname))
    out.append("    case .unrecognized(let value): return String(value)")
    out.append("    }")
    out.append("  }")
    out.append("")
    out.append("  /// Parses a schema name, with or without its prefix, case-insensitively.")
    out.append("  public init?(protoName: String) {")
    out.append("    let wanted = protoName.uppercased()")
    out.append("    for value in Self.knownCases where value.protoName == wanted || value.protoName == \"%s\" + wanted {" % e.prefix)
    out.append("      self = value")
    out.append("      return")
    out.append("    }")
    out.append("    guard let number = Int32(protoName) else { return nil }")
    out.append("    self.init(rawValue: number)")
    out.append("  }")
    out.append("")
    out.append("  /// The schema name, as `protoName`.")
    out.append("  public var description: String { protoName }")
    out.append("")
    out.append("  /// Values compare by wire number, so `.unrecognized(n)` equals the case declared as `n`.")
    out.append("  public static func == (lhs: Self, rhs: Self) -> Bool { lhs.rawValue == rhs.rawValue }")
    out.append("")
    out.append("  /// Hashes the wire number, consistent with `==`.")
    out.append("  public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }")
    out.append("")
    out.append("  /// Decodes a schema name (as `init(protoName:)` accepts) or a wire number.")
    out.append("  public init(from decoder: any Decoder) throws {")
    out.append("    let container = try decoder.singleValueContainer()")
    out.append("    if let number = try? container.decode(Int32.self) {")
    out.append("      self.init(rawValue: number)")
    out.append("      return")
    out.append("    }")
    out.append("    let name = try container.decode(String.self)")
    out.append("    guard let value = Self(protoName: name) else {")
    out.append("      throw DecodingError.dataCorruptedError(in: container, debugDescription: \"unknown %s value \\(name)\")" % e.name)
    out.append("    }")
    out.append("    self = value")
    out.append("  }")
    out.append("")
    out.append("  /// Encodes the schema name (the number, as text, for an unrecognized value).")
    out.append("  public func encode(to encoder: any Encoder) throws {")
    out.append("    var container = encoder.singleValueContainer()")
    out.append("    try container.encode(protoName)")
    out.append("  }")
    out.append("}")
    out.append("")
    out.append("extension %s {" % e.name)
    out.append("  init(_c value: %s) {" % e.c_type)
    out.append("    self.init(rawValue: Int32(truncatingIfNeeded: value.rawValue))")
    out.append("  }")
    out.append("")
    out.append("  var _c: %s {" % e.c_type)
    out.append("    %s(rawValue: .init(truncatingIfNeeded: rawValue))" % e.c_type)
    out.append("  }")
    out.append("}")
    out.append("")


def emit_message(m, enums, messages, out):
    out.extend(doc_lines(m.doc, ""))
    out.append("public struct %s: ProtoMessage, Codable {" % m.name)
    out.append('  /// The fully qualified protobuf name, `%s`.' % m.full_name)
    out.append('  public static let protoName = "%s"' % m.full_name)
    out.append("")
    for f in m.fields:
        out.extend(doc_lines(f.doc, "  "))
        out.append("  public var %s: %s = %s" % (swift_ident(f.swift_name), swift_type(f, enums, messages),
                                               default_value(f, enums)))
    out.append("")
    out.append("  /// Creates a message with every field at its default value.")
    out.append("  public init() {}")
    if m.fields:
        out.append("")
        out.append("  /// Creates a message from its fields; omitted fields keep their default values.")
        params = ", ".join("%s: %s = %s" % (swift_ident(f.swift_name), swift_type(f, enums, messages),
                                            default_value(f, enums)) for f in m.fields)
        out.append("  public init(%s) {" % params)
        for f in m.fields:
            out.append("    self.%s = %s" % (swift_ident(f.swift_name), swift_ident(f.swift_name)))
        out.append("  }")
    out.append("")
    out.append("  /// Decodes the protobuf wire format with protoc-c's codec.")
    out.append("  /// - Throws: `ProtoDecodingError` for bytes that are not a valid `%s`." % m.name)
    out.append("  public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {")
    out.append("    self = try _protoDecode(Self.self, bytes)")
    out.append("  }")
    out.append("")
    out.append("  /// The exact number of bytes `serialize(into:)` appends.")
    out.append("  public func serializedSize() -> Int { _protoSize(self) }")
    out.append("")
    out.append("  /// Appends the protobuf wire format, encoded by protoc-c's codec.")
    out.append("  public func serialize(into buffer: inout [UInt8]) { _protoEncode(self, into: &buffer) }")
    out.append("}")
    out.append("")
    # C bridge
    out.append("extension %s: _CBridged {" % m.name)
    out.append("  typealias CMessage = %s" % m.c_type)
    out.append("")
    out.append("  nonisolated(unsafe) static let _descriptor = _descriptorOf(Self.self)")
    out.append("")
    out.append("  static func _cInit(_ message: UnsafeMutablePointer<%s>) {" % m.c_type)
    out.append("    %s__init(message)" % m.c_fn)
    out.append("  }")
    out.append("")
    ro = "c" if m.fields else "_"
    out.append("  init(_c %s: UnsafePointer<%s>) {" % (ro, m.c_type))
    out.append("    self.init()")
    for f in m.fields:
        s = "self." + swift_ident(f.swift_name)
        cf = "c.pointee." + f.name
        n = "c.pointee.n_" + f.name
        if f.repeated:
            conv = {
                TYPE_STRING: "_protoString($0)",
                TYPE_BYTES: "_protoBytes($0)",
                TYPE_BOOL: "$0 != 0",
                TYPE_ENUM: "%s(_c: $0)" % (enums[f.type_name].name if f.type == TYPE_ENUM else ""),
                TYPE_MESSAGE: "%s(_c: $0!)" % (messages[f.type_name].name if f.type == TYPE_MESSAGE else ""),
            }.get(f.type, "$0")
            out.append("    %s = _protoArray(%s, %s) { %s }" % (s, cf, n, conv))
        elif f.type == TYPE_STRING:
            out.append("    %s = _protoString(%s)" % (s, cf))
        elif f.type == TYPE_BYTES:
            out.append("    %s = _protoBytes(%s)" % (s, cf))
        elif f.type == TYPE_BOOL:
            out.append("    %s = %s != 0" % (s, cf))
        elif f.type == TYPE_ENUM:
            out.append("    %s = %s(_c: %s)" % (s, enums[f.type_name].name, cf))
        elif f.type == TYPE_MESSAGE:
            out.append("    if let sub = %s { %s = %s(_c: sub) }" % (cf, s, messages[f.type_name].name))
        else:
            out.append("    %s = %s" % (s, cf))
    out.append("  }")
    out.append("")
    out.append("  func _fill(_ c: UnsafeMutablePointer<%s>, _ arena: _ProtoArena) {" % m.c_type)
    if not m.fields:
        out.append("    _ = (c, arena)")
    for f in m.fields:
        s = "self." + swift_ident(f.swift_name)
        cf = "c.pointee." + f.name
        n = "c.pointee.n_" + f.name
        if f.repeated:
            conv = {
                TYPE_STRING: "arena.string($0)",
                TYPE_BYTES: "arena.bytes($0)",
                TYPE_BOOL: "$0 ? 1 : 0",
                TYPE_ENUM: "$0._c",
                TYPE_MESSAGE: "arena.message($0)",
            }.get(f.type, "$0")
            out.append("    if !%s.isEmpty {" % s)
            out.append("      %s = %s.count" % (n, s))
            out.append("      %s = arena.array(%s) { %s }" % (cf, s, conv))
            out.append("    }")
        elif f.type == TYPE_STRING:
            out.append("    if !%s.isEmpty { %s = arena.string(%s) }" % (s, cf, s))
        elif f.type == TYPE_BYTES:
            out.append("    if !%s.isEmpty { %s = arena.bytes(%s) }" % (s, cf, s))
        elif f.type == TYPE_BOOL:
            out.append("    %s = %s ? 1 : 0" % (cf, s))
        elif f.type == TYPE_ENUM:
            out.append("    %s = %s._c" % (cf, s))
        elif f.type == TYPE_MESSAGE:
            out.append("    if %s != %s() { %s = arena.message(%s) }" % (s, messages[f.type_name].name, cf, s))
        else:
            out.append("    %s = %s" % (cf, s))
    out.append("  }")
    out.append("}")
    out.append("")


def emit_file(file, enums, messages):
    out = [HEADER % ("gen_swift.py", file["name"]), "internal import CGuestAccessProto", ""]
    for e in file["enums"]:
        emit_enum(e, out)
    for m in file["messages"]:
        emit_message(m, enums, messages, out)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"

# --------------------------------------------------------------------------
# Swift emission: services
# --------------------------------------------------------------------------


def emit_services(file):
    out = [HEADER % ("gen_swift.py", file["name"]), "public import GuestAccessCore",
           "public import GuestAccessProto", ""]
    for s in file["services"]:
        out.extend(doc_lines(s.doc, ""))
        out.append("public enum %s {" % s.name)
        out.append('  /// The fully qualified service name, `%s`.' % s.full_name)
        out.append('  public static let serviceName = "%s"' % s.full_name)
        out.append("")
        out.append("  /// Descriptors of the service's methods.")
        out.append("  public enum Method {")
        for m in s.methods:
            out.extend(doc_lines(m["doc"], "    "))
            out.append('    public static let %s = MethodDescriptor(service: "%s", method: "%s", kind: .%s, idempotent: %s)'
                       % (swift_ident(lower_camel_method(m["name"])), s.full_name, m["name"],
                          "serverStreaming" if m["server_streaming"] else "unary",
                          "true" if m["idempotent"] else "false"))
        out.append("")
        out.append("    /// Every method of the service.")
        out.append("    public static let all: [MethodDescriptor] = [%s]" %
                   ", ".join(swift_ident(lower_camel_method(m["name"])) for m in s.methods))
        out.append("  }")
        out.append("")
        out.append("  /// Typed client stubs over any `ClientChannel`.")
        out.append("  public struct Client: Sendable {")
        out.append("    /// The channel calls go through.")
        out.append("    public let channel: any ClientChannel")
        out.append("")
        out.append("    /// Creates stubs that send calls through `channel`.")
        out.append("    public init(channel: any ClientChannel) {")
        out.append("      self.channel = channel")
        out.append("    }")
        for m in s.methods:
            name = swift_ident(lower_camel_method(m["name"]))
            out.append("")
            out.extend(doc_lines(m["doc"], "    "))
            if m["server_streaming"]:
                out.append("    /// Server streaming: `body` receives the response stream; the call ends when it returns.")
                out.append("    public func %s<R: Sendable>(_ request: %s, options: CallOptions = .defaults, _ body: @Sendable (RPCResponseStream<%s>) async throws -> R) async throws -> R {"
                           % (name, m["input"], m["output"]))
                out.append("      try await channel.serverStreaming(%s.Method.%s, request: request, responseType: %s.self, options: options, body)"
                           % (s.name, name, m["output"]))
            else:
                out.append("    public func %s(_ request: %s, options: CallOptions = .defaults) async throws -> %s {"
                           % (name, m["input"], m["output"]))
                out.append("      try await channel.unary(%s.Method.%s, request: request, responseType: %s.self, options: options)"
                           % (s.name, name, m["output"]))
            out.append("    }")
        out.append("  }")
        out.append("}")
        out.append("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def emit_service_protocols(file):
    """The server side of a file's services, in GuestAccessServerAPI: the
    protocol a service implements and its registration with a router (the
    client library does not carry them)."""
    out = [HEADER % ("gen_swift.py", file["name"]), "public import GuestAccessAPI", "public import GuestAccessCore",
           "public import GuestAccessProto", ""]
    for s in file["services"]:
        out.append("extension %s {" % s.name)
        out.append("  /// The server side: implement it and register it with an `RPCRouter`.")
        out.append("  public protocol ServiceProtocol: RegistrableRPCService {")
        for m in s.methods:
            out.extend(doc_lines(m["doc"], "    "))
            name = swift_ident(lower_camel_method(m["name"]))
            if m["server_streaming"]:
                out.append("    func %s(request: %s, response: RPCWriter<%s>, context: ServerContext) async throws"
                           % (name, m["input"], m["output"]))
            else:
                out.append("    func %s(request: %s, context: ServerContext) async throws -> %s"
                           % (name, m["input"], m["output"]))
        out.append("  }")
        out.append("}")
        out.append("")
        out.append("extension %s.ServiceProtocol {" % s.name)
        out.append("  /// Registers every method of `%s` with `router`." % s.full_name)
        out.append("  public func registerMethods(with router: inout RPCRouter) {")
        for m in s.methods:
            name = swift_ident(lower_camel_method(m["name"]))
            if m["server_streaming"]:
                out.append("    router.registerServerStreaming(%s.Method.%s, requestType: %s.self) { request, writer, context in"
                           % (s.name, name, m["input"]))
                out.append("      try await self.%s(request: request, response: writer, context: context)" % name)
            else:
                out.append("    router.registerUnary(%s.Method.%s, requestType: %s.self) { request, context in"
                           % (s.name, name, m["input"]))
                out.append("      try await self.%s(request: request, context: context)" % name)
            out.append("    }")
        out.append("  }")
        out.append("}")
        out.append("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def emit_callable_methods(files):
    """guest-load's registry of callable methods: every method of every service
    with its descriptor and its request and response types (nothing hand-written
    that could drift from the schema)."""
    out = [HEADER % ("gen_swift.py", "guestaccess/v1/*.proto"), "import GuestAccessAPI", "import GuestAccessProto", "",
           "extension CallableMethod {",
           "  /// Every method of every service, in schema order, with its request and response types.",
           "  static let generated: [CallableMethod] = ["]
    for file in files:
        for s in file["services"]:
            for m in s.methods:
                out.append("    CallableMethod(%s.Method.%s, request: %s.self, response: %s.self),"
                           % (s.name, swift_ident(lower_camel_method(m["name"])), m["input"], m["output"]))
    out.append("  ]")
    out.append("}")
    return "\n".join(out) + "\n"


def lower_camel_method(name):
    return name[:1].lower() + name[1:]

# --------------------------------------------------------------------------
# Test samples
# --------------------------------------------------------------------------


def sample_value(f, enums, messages, depth, seed):
    def scalar(k):
        if f.type == TYPE_STRING:
            return '"%s-%d-ü✓"' % (f.name, seed + k)
        if f.type == TYPE_BYTES:
            return "[0, 1, 0xFF, %d]" % ((seed + k) % 256)
        if f.type == TYPE_BOOL:
            return "true"
        if f.type == TYPE_DOUBLE:
            return "%d.5" % (seed + k)
        if f.type == TYPE_INT64:
            return "-%d" % (1 << 40) if k == 0 else "Int64.max"
        if f.type == TYPE_INT32:
            return "-%d" % (seed + k + 1)
        if f.type in (TYPE_UINT32, TYPE_UINT64):
            return "%d" % (seed + k + 300)
        if f.type == TYPE_ENUM:
            values = enums[f.type_name].values
            return ".%s" % values[min(len(values) - 1, 1 + k)][2]
        if f.type == TYPE_MESSAGE:
            sub = messages[f.type_name]
            if depth > 2:
                return "%s()" % sub.name
            return "%s.sample%s()" % (sub.name, "" if depth == 0 else "Depth%d" % depth)
    if f.repeated:
        return "[%s, %s]" % (scalar(0), scalar(1))
    return scalar(0)


def emit_samples(files, enums, messages, consumer):
    out = [HEADER % ("gen_swift.py", "all files"), "import GuestAccessProto", ""]
    all_messages = [m for file in files for m in file["messages"]]
    for m in all_messages:
        for depth in range(0, 3):
            suffix = "" if depth == 0 else "Depth%d" % depth
            out.append("extension %s {" % m.name)
            out.append("  /// A sample with every field set to a non-default value.")
            out.append("  static func sample%s() -> %s {" % (suffix, m.name))
            out.append("    var m = %s()" % m.name)
            body_start = len(out)
            for k, f in enumerate(m.fields):
                value = sample_value(f, enums, messages, depth + 1, k)
                if depth + 1 > 2 and f.type == TYPE_MESSAGE:
                    continue
                if f.type == TYPE_MESSAGE:
                    sub = messages[f.type_name].name
                    inner = "%s.sample%s()" % (sub, "Depth%d" % (depth + 1))
                    value = "[%s, %s]" % (inner, inner) if f.repeated else inner
                out.append("    m.%s = %s" % (swift_ident(f.swift_name), value))
            if len(out) == body_start:
                out[-1] = "    let m = %s()" % m.name
            out.append("    return m")
            out.append("  }")
            out.append("}")
            out.append("")
    out.append("/// Every generated message type with a fully populated sample (%s)." % consumer)
    out.append("let allMessageSamples: [any ProtoMessage] = [")
    for m in all_messages:
        out.append("  %s.sample()," % m.name)
    out.append("]")
    return "\n".join(out) + "\n"


def unrecognized_number(k):
    """Wire numbers no enum declares: large, negative and just past the end."""
    return (1000 + k, -(7 + k), 2147483647 - k)[k % 3]


def emit_schema_tables(files, enums, messages):
    """Test-only tables: enum types, proto field names, unrecognized-enum samples."""
    out = [HEADER % ("gen_swift.py", "all files"), "import GuestAccessProto", ""]
    all_messages = [m for file in files for m in file["messages"]]
    all_enums = [e for file in files for e in file["enums"]]
    out.append("/// Every generated enum type.")
    out.append("let allEnumTypes: [any ProtoEnum.Type] = [")
    for e in all_enums:
        out.append("  %s.self," % e.name)
    out.append("]")
    out.append("")
    out.append("/// The schema's field names of every message, by fully qualified message name.")
    out.append("let protoFieldNames: [String: [String]] = [")
    for m in all_messages:
        out.append('  "%s": [%s],' % (m.full_name, ", ".join('"%s"' % f.name for f in m.fields)))
    out.append("]")
    out.append("")
    with_enums = [m for m in all_messages if any(f.type == TYPE_ENUM for f in m.fields)]
    for m in with_enums:
        out.append("extension %s {" % m.name)
        out.append("  /// The full sample with every enum field set to numbers the schema does not declare.")
        out.append("  static func sampleWithUnrecognizedEnums() -> %s {" % m.name)
        out.append("    var m = %s.sample()" % m.name)
        for k, f in enumerate(m.fields):
            if f.type != TYPE_ENUM:
                continue
            name = enums[f.type_name].name
            if f.repeated:
                out.append("    m.%s = [.unrecognized(%d), %s.knownCases[0], .unrecognized(%d)]"
                           % (swift_ident(f.swift_name), unrecognized_number(k), name, unrecognized_number(k + 1)))
            else:
                out.append("    m.%s = .unrecognized(%d)" % (swift_ident(f.swift_name), unrecognized_number(k)))
        out.append("    return m")
        out.append("  }")
        out.append("}")
        out.append("")
    out.append("/// A sample of every message that has enum fields, holding unrecognized enum numbers.")
    out.append("let allUnrecognizedEnumSamples: [any ProtoMessage] = [")
    for m in with_enums:
        out.append("  %s.sampleWithUnrecognizedEnums()," % m.name)
    out.append("]")
    return "\n".join(out) + "\n"

# --------------------------------------------------------------------------


def write_if_changed(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == content:
                return
    with open(path, "w") as f:
        f.write(content)


def main():
    descriptor, root = sys.argv[1], sys.argv[2]
    files = [f for f in load(descriptor) if f["package"] == "guestaccess.v1"]
    enums = {e.full_name: e for f in files for e in f["enums"]}
    messages = {m.full_name: m for f in files for m in f["messages"]}
    names = {}
    for full in list(enums) + list(messages):
        short = full.split(".")[-1]
        if short in names:
            raise SystemExit("duplicate type name %s" % short)
        names[short] = full
    proto_dir = os.path.join(root, "Sources/GuestAccessProto/Generated")
    api_dir = os.path.join(root, "Sources/GuestAccessAPI/Generated")
    server_api_dir = os.path.join(root, "Sources/GuestAccessServerAPI/Generated")
    expected = set()
    for file in files:
        base = os.path.splitext(os.path.basename(file["name"]))[0]
        if file["messages"] or file["enums"]:
            path = os.path.join(proto_dir, base + ".pb.swift")
            write_if_changed(path, emit_file(file, enums, messages))
            expected.add(path)
        if file["services"]:
            path = os.path.join(api_dir, base + ".rpc.swift")
            write_if_changed(path, emit_services(file))
            expected.add(path)
            path = os.path.join(server_api_dir, base + ".service.swift")
            write_if_changed(path, emit_service_protocols(file))
            expected.add(path)
    samples = os.path.join(root, "Tests/GuestAccessProtoTests/Generated/Samples.swift")
    write_if_changed(samples, emit_samples(files, enums, messages, "proto tests"))
    tables = os.path.join(root, "Tests/GuestAccessProtoTests/Generated/SchemaTables.swift")
    write_if_changed(tables, emit_schema_tables(files, enums, messages))
    callable_methods = os.path.join(root, "Sources/GuestLoadKit/Generated/CallableMethods.swift")
    write_if_changed(callable_methods, emit_callable_methods(files))
    roundtrip = os.path.join(root, "Sources/proto-roundtrip/Generated/Samples.swift")
    write_if_changed(roundtrip, emit_samples(files, enums, messages, "leak check"))
    for d in (proto_dir, api_dir, server_api_dir):
        for name in os.listdir(d) if os.path.isdir(d) else []:
            path = os.path.join(d, name)
            if path not in expected:
                os.remove(path)


if __name__ == "__main__":
    main()
