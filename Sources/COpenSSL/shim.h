// OpenSSL's libssl (Debian: libssl-dev), for STARTTLS in the SMTP client.
// Several OpenSSL entry points are macros over SSL_ctrl/SSL_CTX_ctrl, which
// Swift cannot import; the static inline functions below wrap them.
#pragma once
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/// Requires TLS 1.2 or newer on a context.
static inline int ga_ssl_ctx_min_tls12(SSL_CTX *ctx) {
  return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/// Sets the server name sent in the handshake (SNI).
static inline int ga_ssl_set_sni(SSL *ssl, const char *name) {
  return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// Makes the handshake check the peer's certificate against `host`: a DNS
/// name, or a numeric IPv4/IPv6 address (matched against IP SANs).
static inline int ga_ssl_expect_host(SSL *ssl, const char *host, int numeric) {
  if (numeric) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, host);
}

/// The text of the oldest queued OpenSSL error (empty if none); clears the queue.
static inline void ga_ssl_error_text(char *buffer, size_t length) {
  unsigned long code = ERR_get_error();
  buffer[0] = 0;
  if (code != 0) ERR_error_string_n(code, buffer, length);
  ERR_clear_error();
}
