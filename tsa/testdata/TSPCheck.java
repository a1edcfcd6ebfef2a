import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.util.Collection;

// TSPCheck validates an RFC 3161 token with BouncyCastle: the TSA certificate
// embedded in it (critical id-kp-timeStamping, ESS signing-certificate match),
// and its signature. Usage: TSPCheck TOKEN.der
public class TSPCheck {
  public static void main(String[] args) throws Exception {
    Security.addProvider(new BouncyCastleProvider());
    TimeStampToken tok = new TimeStampToken(new CMSSignedData(Files.readAllBytes(Path.of(args[0]))));
    @SuppressWarnings("unchecked")
    Collection<X509CertificateHolder> certs = tok.getCertificates().getMatches(tok.getSID());
    X509CertificateHolder cert = certs.iterator().next();
    tok.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert));
    System.out.println("OK " + tok.getTimeStampInfo().getGenTime().toInstant() + " serial " + tok.getTimeStampInfo().getSerialNumber()
        + " policy " + tok.getTimeStampInfo().getPolicy() + " alg " + tok.getTimeStampInfo().getMessageImprintAlgOID());
  }
}
