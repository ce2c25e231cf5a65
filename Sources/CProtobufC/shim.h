// The protobuf-c runtime (Debian: libprotobuf-c-dev).
#pragma once
#include <protobuf-c/protobuf-c.h>
#include <string.h>

/// Reads a base-128 varint; returns the bytes used, 0 if truncated or too long.
static inline size_t ga_protobuf_read_varint(const uint8_t *data, size_t length, uint64_t *value) {
  uint64_t result = 0;
  for (size_t i = 0; i < length && i < 10; i++) {
    result |= (uint64_t)(data[i] & 0x7f) << (7 * i);
    if ((data[i] & 0x80) == 0) {
      *value = result;
      return i + 1;
    }
  }
  return 0;
}

/// Whether a `string` field of `descriptor`'s message in `data` (or of a
/// message nested in it, to a depth of 64) holds a NUL byte, which protobuf-c
/// would silently cut the string at. Sets `*field` to the field's name.
/// Malformed input answers 0: protobuf_c_message_unpack reports that. Nesting
/// deeper than 64 answers 1 (fails closed; no message of the API nests so deep).
static inline int ga_protobuf_string_holds_nul(
    const ProtobufCMessageDescriptor *descriptor, size_t length, const uint8_t *data, const char **field, int depth) {
  if (depth > 64) {
    *field = "(nested deeper than 64 levels)";
    return 1;
  }
  // Fast path: no zero byte at all, so no NUL in any string. Tags, lengths of
  // non-empty fields and non-zero varints never encode a 0x00 byte (their last
  // byte is non-zero, the others carry the continuation bit), and proto3
  // omits zero values, so typical messages skip the walk; explicit zeros,
  // empty nested messages, fixed-width and bytes fields may hold zeros and take it.
  if (depth == 0 && memchr(data, 0, length) == NULL) return 0;
  size_t i = 0;
  while (i < length) {
    uint64_t key, value;
    size_t used = ga_protobuf_read_varint(data + i, length - i, &key);
    if (used == 0) return 0;
    i += used;
    switch (key & 7) {
      case 0:
        used = ga_protobuf_read_varint(data + i, length - i, &value);
        if (used == 0) return 0;
        i += used;
        break;
      case 1:
        if (length - i < 8) return 0;
        i += 8;
        break;
      case 5:
        if (length - i < 4) return 0;
        i += 4;
        break;
      case 2: {
        used = ga_protobuf_read_varint(data + i, length - i, &value);
        if (used == 0) return 0;
        i += used;
        if (value > length - i) return 0;
        const ProtobufCFieldDescriptor *f =
            key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(descriptor, (unsigned)(key >> 3)) : NULL;
        if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING && memchr(data + i, 0, (size_t)value) != NULL) {
          *field = f->name;
          return 1;
        }
        if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
            ga_protobuf_string_holds_nul(f->descriptor, (size_t)value, data + i, field, depth + 1)) {
          return 1;
        }
        i += (size_t)value;
        break;
      }
      default:
        return 0;
    }
  }
  return 0;
}
