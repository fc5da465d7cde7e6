//! A peer certificate as the identity handlers see.

use construct_core::principal::ClientCertificate;
use x509_parser::extensions::GeneralName;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

fn name_of(name: &GeneralName<'_>) -> Option<String> {
    Some(match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::RFC822Name(mail) => format!("email:{mail}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => format!("IP:{}", std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
            16 => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(bytes);
                format!("IP:{}", std::net::Ipv6Addr::from(octets))
            }
            _ => return None,
        },
        _ => return None,
    })
}

/// The identity in a certificate (DER): subject, alternative names, and the SHA-256 of the certificate and
/// of its public key. A certificate that does not parse (rustls verified it already, so this does not
/// happen for peers) keeps its certificate fingerprint and nothing else.
pub fn client_certificate(der: &[u8]) -> ClientCertificate {
    let fingerprint = sha256_hex(der);
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let sans = match cert.subject_alternative_name() {
                Ok(Some(ext)) => ext.value.general_names.iter().filter_map(name_of).collect(),
                _ => Vec::new(),
            };
            ClientCertificate {
                subject: cert.subject().to_string(),
                sans,
                fingerprint,
                spki_fingerprint: sha256_hex(cert.public_key().raw),
            }
        }
        Err(_) => ClientCertificate {
            subject: String::new(),
            sans: Vec::new(),
            fingerprint,
            spki_fingerprint: String::new(),
        },
    }
}
