import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.tsp.TimeStampToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.Security;
import java.util.Arrays;

// SealCheck verifies a seal's detached SM2 SignedData over the signed bytes
// of a PDF with BouncyCastle, with its unsigned signature time-stamp token
// present, then validates that token and checks that its imprint is the SM3
// of the signature value. Usage: SealCheck SIGNED-BYTES SIGNATURE.der
public class SealCheck {
  @SuppressWarnings("unchecked")
  public static void main(String[] args) throws Exception {
    Security.addProvider(new BouncyCastleProvider());
    CMSSignedData sd = new CMSSignedData(new CMSProcessableByteArray(Files.readAllBytes(Path.of(args[0]))),
        Files.readAllBytes(Path.of(args[1])));
    SignerInformation si = sd.getSignerInfos().getSigners().iterator().next();
    X509CertificateHolder cert = (X509CertificateHolder) sd.getCertificates().getMatches(si.getSID()).iterator().next();
    if (!si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert))) {
      throw new Exception("the seal's signature does not verify");
    }
    Attribute a = si.getUnsignedAttributes().get(new ASN1ObjectIdentifier("1.2.840.113549.1.9.16.2.14"));
    ASN1Encodable v = a.getAttrValues().getObjectAt(0);
    TimeStampToken tok = new TimeStampToken(new CMSSignedData(v.toASN1Primitive().getEncoded()));
    X509CertificateHolder tsa = (X509CertificateHolder) tok.getCertificates().getMatches(tok.getSID()).iterator().next();
    tok.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(tsa));
    byte[] imprint = MessageDigest.getInstance("SM3", "BC").digest(si.getSignature());
    if (!Arrays.equals(imprint, tok.getTimeStampInfo().getMessageImprintDigest())) {
      throw new Exception("the token's imprint is not the SM3 of the signature value");
    }
    System.out.println("OK seal " + si.getEncryptionAlgOID() + " stamped " + tok.getTimeStampInfo().getGenTime().toInstant());
  }
}
