package verify

import (
	"fmt"
	"time"
)

// The verification report: the verdict on a file and on each signature in
// it, with the reasons, so that a bank clerk, a county department or a
// court can tell whether a PDF carries a valid township seal, as it is
// displayed now, and why not. `sealctl verify` prints it and the
// VerificationService returns it.

// Verdict is the verdict on a file.
type Verdict string

const (
	// VerdictValid: the file has at least one signature, and every
	// signature in it is valid.
	VerdictValid Verdict = "valid"
	// VerdictInvalid: some signature is not valid, or there is none.
	VerdictInvalid Verdict = "invalid"
	// VerdictUnreadable: the file cannot be read as a PDF.
	VerdictUnreadable Verdict = "unreadable"
)

// Code names a reason for a verdict, or a warning. Codes are stable: a
// program may act on them. Chinese and English say what they mean.
type Code string

// Reasons that a file or a signature is not valid.
const (
	CodeUnreadable      Code = "unreadable"    // not a PDF, or too damaged to read
	CodeEncrypted       Code = "encrypted"     // encrypted: cannot be read without its password
	CodeDamaged         Code = "damaged"       // the revisions or the form cannot be read
	CodeTooLarge        Code = "too_large"     // reading the file would exceed a limit on memory or work
	CodeNoSignatures    Code = "no_signatures" // no signed signature field
	CodeTrailingData    Code = "trailing_data" // bytes after the last %%EOF that are not a revision
	CodeNotLocated      Code = "signature_not_located"
	CodeContentsMissing Code = "contents_missing"        // /Contents missing, null, empty or not a hex string
	CodeByteRange       Code = "byte_range_malformed"    // /ByteRange missing or malformed
	CodeByteRangeGap    Code = "byte_range_gap"          // the gap is not exactly this signature's /Contents
	CodeByteRangeEnd    Code = "byte_range_not_revision" // the ranges do not end where a revision ends
	CodeSubFilter       Code = "unsupported_subfilter"   // not a detached CMS signature
	CodeCMSMalformed    Code = "cms_malformed"           // the signature value is not a well-formed SignedData
	CodeAlgorithm       Code = "unsupported_algorithm"   // an algorithm the verifier does not accept
	CodeDigestMismatch  Code = "digest_mismatch"         // the signed bytes changed after signing
	CodeBadSignature    Code = "bad_signature"           // the signature does not verify under the signer's key
	CodeUntrusted       Code = "untrusted"               // no chain to a trust anchor
	CodeCertExpired     Code = "certificate_expired"     // a certificate was not valid at the signing time
	CodeKeyUsage        Code = "key_usage"               // the signer certificate may not sign documents
	CodeRevoked         Code = "revoked"                 // revoked at the signing time
	CodeKeyCompromised  Code = "key_compromised"         // revoked for key compromise: no claimed time can be trusted
	CodeSuspended       Code = "suspended"               // on hold (挂失) at the signing time
	CodeFutureSigning   Code = "signing_time_in_future"  // the claimed signing time is after the verification time
	CodeModified        Code = "modified_after_signing"  // a later revision changes what the pages show
	CodeUnparseable     Code = "unparseable_revision"    // a later revision cannot be read or compared
	CodeCertified       Code = "certification_violated"  // a later revision breaks the certification's permissions

	// A signature's time-stamp token, or a document timestamp, that is
	// not good (timestamp.go).
	CodeTimestampInvalid     Code = "timestamp_invalid"             // the token is malformed or its signature does not verify
	CodeTimestampImprint     Code = "timestamp_imprint_mismatch"    // the token is not over this signature (or these bytes)
	CodeTimestampUntrusted   Code = "timestamp_untrusted"           // the TSA does not chain to a trust anchor at the token's time
	CodeTimestampEKU         Code = "timestamp_not_tsa"             // the TSA certificate lacks the critical id-kp-timeStamping
	CodeTimestampRevoked     Code = "timestamp_tsa_revoked"         // the TSA certificate was revoked by the token's time
	CodeTimestampBeforeClaim Code = "timestamp_before_claimed_time" // stamped before the claimed signing time: the claim is false
	CodeSESealInvalid        Code = "seseal_invalid"                // the seal's national seal data is malformed or its maker's signature fails
	CodeSESealMaker          Code = "seseal_maker_untrusted"        // the seal maker's certificate is not a seal maker's under a trust anchor
	CodeSESealNotValid       Code = "seseal_not_valid"              // the seal was not valid at the signing time
	CodeSESealNotHolder      Code = "seseal_wrong_certificate"      // the seal does not list the signing certificate
	CodeSealImageMismatch    Code = "seal_image_mismatch"           // the picture on the page is not the seal's registered picture
)

// Warnings: worth knowing, but they leave a signature valid.
const (
	CodeRevocationUnknown Code = "revocation_unknown"    // no CRL from the issuer was given
	CodeCRLIgnored        Code = "crl_ignored"           // a CRL did not verify and was not used
	CodeCRLStale          Code = "crl_stale"             // the CRL's next update has passed
	CodeRevokedLater      Code = "revoked_after_signing" // revoked or on hold, but after the signing time
	CodeAnnotation        Code = "annotation_added"      // a later revision adds an annotation that draws nothing over the page
	CodeFormChanged       Code = "form_changed"          // a later revision adds a form field or form settings, which show nothing
	CodeMetadata          Code = "metadata_changed"      // a later revision changes metadata, which no page shows
	CodeUnreferenced      Code = "unreferenced_objects"  // a later revision adds objects nothing refers to
	CodeTimeMismatch      Code = "signing_time_mismatch" // /M and the signed signing-time attribute disagree
	CodeNoSigningTime     Code = "no_signing_time"       // the signature claims no signing time: the chain is checked now
	CodeNoKeyUsage        Code = "key_usage_absent"      // the signer certificate does not restrict its key usage
	CodeTrailingSpace     Code = "trailing_whitespace"   // white space after the last %%EOF
	CodeNotWholeFile      Code = "not_whole_file"        // later revisions follow the signed one
	CodeSealOffPage       Code = "seal_off_page"         // the seal is drawn partly or wholly outside its page's visible area
	CodeSealInvisible     Code = "seal_invisible"        // the signature draws no seal on any page
	CodeTimeOnlyClaimed   Code = "time_only_claimed"     // the signer certificate has expired, and no timestamp proves the signature came before
	CodeDSSUsed           Code = "dss_used"              // no CRL was given: the CRLs and certificates of the document's /DSS were used
)

// zhCodes and enCodes say what each code means, for people.
var zhCodes = map[Code]string{
	CodeUnreadable:           "无法作为PDF读取",
	CodeEncrypted:            "文件已加密，无法核验",
	CodeDamaged:              "文件结构损坏，无法核验",
	CodeTooLarge:             "读取文件所需的内存或计算量超出限制，无法核验",
	CodeNoSignatures:         "文件中没有签章",
	CodeTrailingData:         "文件末尾附加了无法解析的数据",
	CodeNotLocated:           "签名字典的位置无法确定",
	CodeContentsMissing:      "签名值（/Contents）缺失或为空",
	CodeByteRange:            "签名范围（/ByteRange）缺失或格式错误",
	CodeByteRangeGap:         "签名范围的空隙不是本签名的签名值（签名包装攻击）",
	CodeByteRangeEnd:         "签名范围没有在某一版本的结尾处结束",
	CodeSubFilter:            "不支持的签名格式",
	CodeCMSMalformed:         "签名值格式错误",
	CodeAlgorithm:            "不支持的算法",
	CodeDigestMismatch:       "签名后文件内容被篡改（摘要不符）",
	CodeBadSignature:         "签名值验证失败",
	CodeUntrusted:            "证书链不能追溯到受信任的根证书",
	CodeCertExpired:          "签章时证书不在有效期内",
	CodeKeyUsage:             "证书不允许用于签章",
	CodeRevoked:              "签章时证书已被吊销（注销）",
	CodeKeyCompromised:       "印章密钥已泄露而被吊销，签章时间无法证明早于吊销，签章不可信",
	CodeSuspended:            "签章时印章已挂失",
	CodeFutureSigning:        "签章时间晚于核验时间",
	CodeModified:             "签章后文件被修改，页面显示的内容已改变",
	CodeUnparseable:          "签章后追加的内容无法解析",
	CodeCertified:            "签章后的修改违反了认证签名的权限",
	CodeTimestampInvalid:     "时间戳格式错误或其签名验证失败",
	CodeTimestampImprint:     "时间戳不是针对本签名（或本文件内容）签发的",
	CodeTimestampUntrusted:   "时间戳服务机构的证书不能追溯到受信任的根证书",
	CodeTimestampEKU:         "时间戳服务机构的证书没有关键的时间戳扩展密钥用途",
	CodeTimestampRevoked:     "时间戳签发时时间戳服务机构的证书已被吊销",
	CodeTimestampBeforeClaim: "时间戳时间早于签名声明的签章时间，声明的时间是伪造的",
	CodeSESealInvalid:        "电子印章数据格式错误或制章者签名验证失败",
	CodeSESealMaker:          "制章者证书不是受信任的电子印章制作证书",
	CodeSESealNotValid:       "签章时电子印章不在有效期内",
	CodeSESealNotHolder:      "电子印章未列出签章所用的证书",
	CodeSealImageMismatch:    "页面上的印章图像不是该电子印章登记的图像",
	CodeRevocationUnknown:    "未提供证书吊销列表，未检查吊销状态",
	CodeCRLIgnored:           "证书吊销列表验证失败，未使用",
	CodeCRLStale:             "证书吊销列表已过期",
	CodeRevokedLater:         "证书在签章之后被吊销或挂失",
	CodeAnnotation:           "签章后添加了不遮挡页面内容的注释",
	CodeFormChanged:          "签章后添加了表单域或修改了表单设置",
	CodeMetadata:             "签章后修改了文档元数据",
	CodeUnreferenced:         "签章后追加了未被引用的对象",
	CodeTimeMismatch:         "签名字典中的时间与签名属性中的时间不一致",
	CodeNoSigningTime:        "签名未声明签章时间，按核验时间检查证书",
	CodeNoKeyUsage:           "签名证书未限定密钥用途",
	CodeTrailingSpace:        "文件末尾有空白字符",
	CodeNotWholeFile:         "签章之后文件还有后续版本",
	CodeSealOffPage:          "印章图像部分或全部位于页面可见区域之外",
	CodeSealInvisible:        "该签名没有在任何页面上显示印章图像",
	CodeTimeOnlyClaimed:      "签名证书已过期，且没有时间戳证明签章早于过期，签章时间仅为签章方声明",
	CodeDSSUsed:              "未提供吊销列表，使用了文件中长期验证数据（DSS）所含的吊销列表和证书",
}

var enCodes = map[Code]string{
	CodeUnreadable:           "cannot be read as a PDF",
	CodeEncrypted:            "the file is encrypted and cannot be checked",
	CodeDamaged:              "the file's structure is damaged and cannot be checked",
	CodeTooLarge:             "reading the file would take more memory or work than allowed, so it cannot be checked",
	CodeNoSignatures:         "the file carries no signature",
	CodeTrailingData:         "data that cannot be parsed follows the end of the file",
	CodeNotLocated:           "the signature dictionary cannot be located",
	CodeContentsMissing:      "the signature value (/Contents) is missing or empty",
	CodeByteRange:            "the signed byte range (/ByteRange) is missing or malformed",
	CodeByteRangeGap:         "the byte range's gap is not this signature's value (signature wrapping)",
	CodeByteRangeEnd:         "the byte range does not end where a revision ends",
	CodeSubFilter:            "unsupported signature format",
	CodeCMSMalformed:         "the signature value is malformed",
	CodeAlgorithm:            "unsupported algorithm",
	CodeDigestMismatch:       "the signed bytes were changed after signing (digest mismatch)",
	CodeBadSignature:         "the signature does not verify",
	CodeUntrusted:            "the certificate chain does not lead to a trusted root",
	CodeCertExpired:          "a certificate was not valid at the signing time",
	CodeKeyUsage:             "the certificate may not be used to sign documents",
	CodeRevoked:              "the certificate was revoked at the signing time",
	CodeKeyCompromised:       "the seal was revoked because its key was compromised; a claimed signing time cannot show that it signed before",
	CodeSuspended:            "the seal was suspended (on hold) at the signing time",
	CodeFutureSigning:        "the signing time is after the verification time",
	CodeModified:             "the file was changed after signing: what the pages show is different",
	CodeUnparseable:          "what was appended after signing cannot be parsed",
	CodeCertified:            "a change after signing breaks the certification's permissions",
	CodeTimestampInvalid:     "the time-stamp token is malformed or its signature does not verify",
	CodeTimestampImprint:     "the time-stamp token was not issued for this signature (or these bytes)",
	CodeTimestampUntrusted:   "the time-stamping authority's certificate does not lead to a trusted root",
	CodeTimestampEKU:         "the time-stamping authority's certificate lacks the critical time-stamping extended key usage",
	CodeTimestampRevoked:     "the time-stamping authority's certificate was revoked when the token was issued",
	CodeTimestampBeforeClaim: "the timestamp is earlier than the claimed signing time: the claim is false",
	CodeSESealInvalid:        "the seal's national seal data (SESeal) is malformed or its maker's signature does not verify",
	CodeSESealMaker:          "the seal maker's certificate is not a trusted seal maker's",
	CodeSESealNotValid:       "the seal was not valid at the signing time",
	CodeSESealNotHolder:      "the seal does not list the certificate that signed",
	CodeSealImageMismatch:    "the picture on the page is not the seal's registered picture",
	CodeRevocationUnknown:    "no CRL given: revocation not checked",
	CodeCRLIgnored:           "a CRL did not verify and was not used",
	CodeCRLStale:             "the CRL is past its next update",
	CodeRevokedLater:         "the certificate was revoked or suspended after the signing time",
	CodeAnnotation:           "an annotation that covers nothing was added after signing",
	CodeFormChanged:          "a form field or form setting was added after signing",
	CodeMetadata:             "document metadata was changed after signing",
	CodeUnreferenced:         "objects that nothing refers to were appended after signing",
	CodeTimeMismatch:         "the signature dictionary's time and the signed signing time disagree",
	CodeNoSigningTime:        "the signature claims no signing time; the chain is checked at the verification time",
	CodeNoKeyUsage:           "the signer certificate does not restrict its key usage",
	CodeTrailingSpace:        "white space follows the end of the file",
	CodeNotWholeFile:         "later revisions follow the signed one",
	CodeSealOffPage:          "the seal is drawn partly or wholly outside the page's visible area",
	CodeSealInvisible:        "the signature draws no seal on any page",
	CodeTimeOnlyClaimed:      "the signer certificate has expired, and no timestamp proves the signature was made before: the signing time is only the signer's claim",
	CodeDSSUsed:              "no CRL was given: the CRLs and certificates in the document's validation data (/DSS) were used",
}

// Chinese says what the code means, in Chinese.
func (c Code) Chinese() string { return zhCodes[c] }

// English says what the code means, in English.
func (c Code) English() string { return enCodes[c] }

// Problem is a reason or a warning: its code, and a detail that says what
// exactly was found (offsets, object numbers, names), in English.
type Problem struct {
	Code   Code
	Detail string
}

func (p Problem) String() string {
	if p.Detail == "" {
		return string(p.Code) + ": " + p.Code.English()
	}
	return string(p.Code) + ": " + p.Code.English() + ": " + p.Detail
}

func problem(c Code, format string, args ...any) Problem {
	return Problem{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// FileReport is the verdict on one file.
type FileReport struct {
	Verdict Verdict
	// Reasons say why the file is not valid: its own problems, then each
	// invalid signature's first reason. Warnings are the file's own.
	Reasons  []Problem
	Warnings []Problem
	Size     int64
	// Revisions is the number of revisions (the original and each
	// incremental update).
	Revisions  int
	Signatures []SignatureReport
}

// Revocation is a certificate's revocation status from the CRLs given.
type Revocation string

const (
	RevocationGood      Revocation = "good"      // a CRL from its issuer does not list it
	RevocationRevoked   Revocation = "revoked"   // listed as revoked
	RevocationSuspended Revocation = "suspended" // listed on hold (certificateHold): the seal is 挂失
	RevocationUnknown   Revocation = "unknown"   // no CRL from its issuer was given
)

// SignatureReport is the verdict on one signature.
type SignatureReport struct {
	// Field is the signature field's name.
	Field string
	// Signer is the signer certificate's subject common name; SealName
	// the signature dictionary's /Name, the seal's name; Township the
	// township code in the certificate's subject serialNumber.
	Signer, SealName, Township string
	// ItemCode, ItemName and CaseNumber are what the seal was used for,
	// from the signature dictionary; Reason and Location its claims.
	ItemCode, ItemName, CaseNumber string
	Reason, Location               string
	// Filter and SubFilter are the signature dictionary's.
	Filter, SubFilter string
	// SigningTime is the signer's claimed time: the signed signing-time
	// attribute, else /M; SigningTimeSource says which ("cms", "pdf", or
	// empty when neither).
	SigningTime       time.Time
	SigningTimeSource string
	// ProvenTime is the time a valid timestamp proves the signature
	// existed at, zero without one; TimeBasis says which time the chain,
	// revocation and "revoked after signing" were judged at: TimeProven
	// (ProvenTime, plus the token's accuracy) or TimeClaimed
	// (SigningTime, or the verification time when none is claimed).
	ProvenTime time.Time
	TimeBasis  string
	// Timestamp is the signature's time-stamp token (or, for a document
	// timestamp, the document's), nil without one.
	Timestamp *TimestampInfo
	// DigestAlgorithm and SignatureAlgorithm name the algorithms with
	// their object identifiers, e.g. "SM3 (1.2.156.10197.1.401)".
	DigestAlgorithm, SignatureAlgorithm string
	DigestMatch, SignatureValid         bool
	// Chain is the signer's certificate chain, leaf first, ending at the
	// trust anchor when ChainTrusted, else the certificates embedded.
	Chain        []CertificateInfo
	ChainTrusted bool
	// KeyUsageOK is whether the signer certificate may sign documents
	// (digitalSignature or nonRepudiation, or no key usage restriction).
	KeyUsageOK bool
	// ValidAtSigningTime is whether every certificate of the chain was
	// within its validity at the signing time.
	ValidAtSigningTime bool
	// Revocation is the signer certificate's status; RevokedAt when it is
	// listed.
	Revocation Revocation
	RevokedAt  time.Time
	// CoversWholeFile is whether the signed revision is the whole file.
	CoversWholeFile bool
	// Revision is the 1-based revision the signature signs, 0 when its
	// byte range ends at none.
	Revision int
	// LaterRevisions say what each revision after the signed one changes.
	LaterRevisions []RevisionChange
	// DocMDP is the certification level (1–3), 0 for an approval
	// signature.
	DocMDP int
	Valid  bool
	// Seals are where the signature's widgets draw its seal (see
	// placement.go); an off-page or invisible seal is a warning.
	Seals []SealPlacement
	// SESeal is the seal's national seal data the signature carries
	// (seseal.go), nil when it carries none.
	SESeal *SESealInfo `json:",omitempty"`
	// Reasons say why the signature is not valid; Warnings are worth
	// knowing but leave it valid.
	Reasons, Warnings []Problem
}

// CertificateInfo describes one certificate of a chain.
type CertificateInfo struct {
	Subject, Issuer string
	// Serial is the serial number in hexadecimal.
	Serial              string
	NotBefore, NotAfter time.Time
	// KeyUsage lists the key usages, e.g. "digitalSignature".
	KeyUsage []string
	// SignatureValid is whether its issuer's signature on it verifies
	// (for the trust anchor, its own).
	SignatureValid bool
	// ValidAtSigningTime is whether the signing time falls within its
	// validity.
	ValidAtSigningTime bool
	// TrustAnchor is whether it is one of the trust anchors given.
	TrustAnchor bool
	// Revocation is its status in the CRLs given; the anchor's is
	// "unknown", since nothing above it could revoke it.
	Revocation Revocation
}

// RevisionChange says what one later revision changes.
type RevisionChange struct {
	// Revision is 1-based.
	Revision int
	// Kind is one of the pdf.ChangeKind values: "signature", "timestamp",
	// "dss", "annotation", "form_field", "page_content", "page_tree",
	// "catalog", "metadata", "unreferenced", "unparseable"; or
	// "trailing_data" for bytes after the last revision.
	Kind    string
	Detail  string
	Objects []int
	Pages   []int
	// Allowed is whether the change leaves the signature valid.
	Allowed bool
}
