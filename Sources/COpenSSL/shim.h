#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

/* SHA-256 through the low-level API: EVP_Digest(EVP_sha256()) makes OpenSSL 3 load its
   default provider and build its algorithm tables, about 2 MiB of libcrypto resident in
   an idle daemon that only hashes its desired state. SHA256_Init & co. run the same
   assembly without any of that; they are deprecated in 3.0 but not going away in 3.x. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
#include <openssl/sha.h>
static inline int agent_sha256_init(SHA256_CTX *c) { return SHA256_Init(c); }
static inline int agent_sha256_update(SHA256_CTX *c, const void *data, size_t length) { return SHA256_Update(c, data, length); }
static inline int agent_sha256_final(unsigned char *digest, SHA256_CTX *c) { return SHA256_Final(digest, c); }
#pragma clang diagnostic pop

/* Macros Swift cannot import, as functions. */
static inline unsigned long agent_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }

static inline STACK_OF(X509) *agent_x509_stack_new(void) { return sk_X509_new_null(); }
static inline int agent_x509_stack_push(STACK_OF(X509) *stack, X509 *x) { return sk_X509_push(stack, x); }
static inline void agent_x509_stack_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }
static inline void agent_safebags_free(STACK_OF(PKCS12_SAFEBAG) *bags) { sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free); }
static inline void agent_safes_free(STACK_OF(PKCS7) *safes) { sk_PKCS7_pop_free(safes, PKCS7_free); }

/* Oracle's "trusted key usage" attribute (2.16.840.1.113894.746875.1.1 = {anyExtendedKeyUsage}):
   without it the JDK reads a PKCS12 certificate bag as no entry at all. OpenSSL 3.0 has no name for it. */
static inline int agent_add_jdk_trust(PKCS12_SAFEBAG *bag) {
    ASN1_OBJECT *any = OBJ_txt2obj("2.5.29.37.0", 1);
    if (any == NULL) return 0;
    int ok = PKCS12_add1_attr_by_txt(bag, "2.16.840.1.113894.746875.1.1", V_ASN1_OBJECT, (const unsigned char *)any, -1);
    ASN1_OBJECT_free(any);
    return ok;
}

/* The TLS client of https:// S3 endpoints (Backup/S3/TLSStream.swift): macros as functions. */
static inline int agent_ssl_ctx_min_tls12(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline int agent_ssl_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
