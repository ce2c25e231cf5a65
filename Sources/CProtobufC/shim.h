// The protobuf-c runtime (Debian: libprotobuf-c-dev).
#pragma once
#include <protobuf-c/protobuf-c.h>
