import FoundationEssentials

/// Reads the certificates a `trust` entry names: a PEM file or bundle, or the
/// JSON that `az managed-cassandra cluster show` prints (a managed
/// datacenter's gossip certificates, their line breaks escaped as `\r\n`).
public enum TrustSource {
    public static func certificates(in bytes: [UInt8]) throws(TLSError) -> [Certificate] {
        let text = decodeText(bytes)
        let start = text.first { !$0.isWhitespace }
        if start == "{" || start == "[" {
            return try fromAzureJSON(text)
        }
        return try Certificate.readAll(pem: Array(text.utf8))
    }

    /// UTF-8 (BOM stripped), or UTF-16 with a BOM (PowerShell redirection writes that).
    static func decodeText(_ bytes: [UInt8]) -> String {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(decoding: bytes.dropFirst(3), as: UTF8.self) }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            let littleEndian = bytes[0] == 0xFF
            let units = stride(from: 2, to: bytes.count - 1, by: 2).map { i in
                littleEndian ? UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 : UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            }
            return String(decoding: units, as: UTF16.self)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    struct Item: Decodable { let pem: String }
    struct Certificates: Decodable { let gossipCertificates: [Item] }
    struct Cluster: Decodable { let properties: Certificates }

    static func fromAzureJSON(_ text: String) throws(TLSError) -> [Certificate] {
        let data = Data(text.utf8)
        let decoder = JSONDecoder()
        let items: [Item]
        if let list = try? decoder.decode([Item].self, from: data) {
            items = list
        } else if let object = try? decoder.decode(Certificates.self, from: data) {
            items = object.gossipCertificates
        } else if let cluster = try? decoder.decode(Cluster.self, from: data) {
            items = cluster.properties.gossipCertificates
        } else {
            do {
                _ = try JSONDecoder().decode(JSONShapeProbe.self, from: data)
                throw TLSError("JSON of an unexpected shape: expected the output of `az managed-cassandra cluster show` (properties.gossipCertificates), {\"gossipCertificates\": [...]}, or an array of {\"pem\": \"...\"}")
            } catch let error as TLSError {
                throw error
            } catch {
                throw TLSError("not valid JSON: \(error)")
            }
        }
        guard !items.isEmpty else { throw TLSError("the JSON lists no gossip certificates") }
        var certificates: [Certificate] = []
        for (index, item) in items.enumerated() {
            // Escaped line breaks first ("\r\n" copied as text), then real CR LF.
            let pem = item.pem.replacing("\\r\\n", with: "\n").replacing("\\n", with: "\n").replacing("\\r", with: "\n")
                .replacing("\r\n", with: "\n").replacing("\r", with: "\n")
            do {
                certificates += try Certificate.readAll(pem: Array(pem.utf8))
            } catch {
                throw TLSError("gossip certificate \(index + 1) of \(items.count): \(error.message)")
            }
        }
        return certificates
    }

    /// Any JSON value: tells "not JSON" apart from "JSON of the wrong shape".
    struct JSONShapeProbe: Decodable {
        init(from decoder: any Decoder) throws {
            if (try? decoder.container(keyedBy: AnyCodingKey.self)) != nil { return }
            if (try? decoder.unkeyedContainer()) != nil { return }
            _ = try decoder.singleValueContainer()
        }
    }

    struct AnyCodingKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
    }
}
