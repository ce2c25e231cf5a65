// OpenSSL's libssl (Debian: libssl-dev): TLS on the RPC port and for the
// clients, STARTTLS in the SMTP client. Several OpenSSL entry points are
// macros over SSL_ctrl/SSL_CTX_ctrl, which Swift cannot import; the static
// inline functions below wrap them.
#pragma once
#include <string.h>
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

/// Settings for non-blocking use from an event loop: writes may return after
/// part of the data (one record at a time) and be retried from a buffer that
/// moved; idle connections free their record buffers; no session cache and
/// no session tickets (every connection is a full handshake, no state kept).
static inline void ga_ssl_ctx_event_loop_mode(SSL_CTX *ctx) {
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

/// The protocol identifier both ends set in ALPN (wire format: length-prefixed).
static const unsigned char ga_alpn_wire[] = "\x0dguestaccess/1";

/// HTTP/1.1's ALPN identifier (wire format).
static const unsigned char ga_alpn_http11_wire[] = "\x08http/1.1";

/// What a server selects with ALPN, and what it does when the client offers none of it.
typedef struct {
  const unsigned char *wire;
  unsigned int length;
  int on_mismatch;
} ga_alpn_choice;

static const ga_alpn_choice ga_alpn_rpc_choice = {ga_alpn_wire, sizeof(ga_alpn_wire) - 1, SSL_TLSEXT_ERR_ALERT_FATAL};
static const ga_alpn_choice ga_alpn_http11_choice = {ga_alpn_http11_wire, sizeof(ga_alpn_http11_wire) - 1, SSL_TLSEXT_ERR_NOACK};

static int ga_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg) {
  (void)ssl;
  const ga_alpn_choice *choice = (const ga_alpn_choice *)arg;
  unsigned char *selected = NULL;
  if (SSL_select_next_proto(&selected, outlen, choice->wire, choice->length, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return choice->on_mismatch;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

/// Server side: selects the protocol's ALPN identifier; a client offering
/// only other protocols fails the handshake (no_application_protocol).
static inline void ga_ssl_ctx_alpn_server(SSL_CTX *ctx) {
  SSL_CTX_set_alpn_select_cb(ctx, ga_alpn_select, (void *)&ga_alpn_rpc_choice);
}

/// Server side of an HTTP listener: selects "http/1.1" when the client
/// offers it (browsers offer h2 and http/1.1), else continues without ALPN
/// (e.g. a client offering only h2 may still speak HTTP/1.1).
static inline void ga_ssl_ctx_alpn_server_http11(SSL_CTX *ctx) {
  SSL_CTX_set_alpn_select_cb(ctx, ga_alpn_select, (void *)&ga_alpn_http11_choice);
}

/// Client side: offers the protocol's ALPN identifier.
static inline int ga_ssl_ctx_alpn_client(SSL_CTX *ctx) {
  return SSL_CTX_set_alpn_protos(ctx, ga_alpn_wire, sizeof(ga_alpn_wire) - 1) == 0 ? 1 : 0;
}

/// Whether the handshake selected the protocol's ALPN identifier.
static inline int ga_ssl_alpn_matches(const SSL *ssl) {
  const unsigned char *data = NULL;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &data, &length);
  return length == sizeof(ga_alpn_wire) - 2 && memcmp(data, ga_alpn_wire + 1, length) == 0;
}

/// Writes the peer certificate's subject (RFC 2253 text) into `subject` and
/// its URI subject alternative names, one per line, into `uris`; returns 0
/// when the peer sent no certificate, -1 when a buffer is too small, 1 otherwise.
static inline int ga_ssl_peer_identity(const SSL *ssl, char *subject, size_t subject_length, char *uris, size_t uris_length) {
  subject[0] = 0;
  uris[0] = 0;
  X509 *cert = SSL_get1_peer_certificate(ssl);
  if (cert == NULL) return 0;
  int result = 1;
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio != NULL && X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
    int n = BIO_read(bio, subject, (int)subject_length - 1);
    if (n >= (int)subject_length - 1) result = -1;
    subject[n > 0 ? n : 0] = 0;
  }
  BIO_free(bio);
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  size_t used = 0;
  for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING *uri = name->d.uniformResourceIdentifier;
    size_t length = (size_t)ASN1_STRING_length(uri);
    if (used + length + 2 > uris_length) { result = -1; break; }
    if (used > 0) uris[used++] = '\n';
    memcpy(uris + used, ASN1_STRING_get0_data(uri), length);
    used += length;
    uris[used] = 0;
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
  return result;
}
