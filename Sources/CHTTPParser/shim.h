// Debian's nodejs http-parser (libhttp-parser-dev): the HTTP/1.1 request
// parser behind GuestAccessWeb.
#include <http_parser.h>
