import Foundation
import GatewayCore

/// The values of one decoded message, sorted by what they are for.
struct DecodedFields {
    var services: [ServiceReport] = []
    var paras = JSONObject()
    var mid: Int64?
    var errcode: Int64?
}

extension ProductCodec {
    // MARK: - Decoding

    func decodeFields(of message: CodecMessage, _ bytes: [UInt8]) throws(DecodeError) -> DecodedFields {
        var cursor = ByteCursor(bytes)
        var integers: [String: Int64] = [:]
        var offsets: [String: Int] = [:]
        var result = DecodedFields()
        for field in message.fields {
            let start = cursor.offset
            let count: Int
            if let size = field.fixedSize {
                count = size
            } else {
                // Validation guarantees the length field comes first and is an unsigned integer.
                let declared = integers[field.lengthField ?? ""] ?? 0
                let maximum = min(field.length ?? Self.maximumFrameBytes, Self.maximumFrameBytes)
                guard declared <= Int64(maximum) else {
                    // Blame the byte that states the length.
                    let at = offsets[field.lengthField ?? ""] ?? start
                    throw DecodeError(.lengthTooLarge(field: field.name, length: declared, maximum: maximum), offset: at)
                }
                count = Int(declared)
            }
            let slice = try cursor.take(count)
            if field.type.isInteger {
                integers[field.name] = field.type.integer(fromBigEndian: BigEndian.unsigned(slice))
                offsets[field.name] = start
            }

            switch field.role {
            case .messageId, .constant, .length: continue
            case .mid: result.mid = integers[field.name]
            case .errcode: result.errcode = integers[field.name]
            case .value(let service, let name, let property):
                let value = try decodeValue(field, slice, property: property, integer: integers[field.name], offset: start)
                if message.kind == .report {
                    if let index = result.services.firstIndex(where: { $0.serviceId == service }) {
                        result.services[index].properties[name] = value
                    } else {
                        result.services.append(ServiceReport(serviceId: service, properties: [name: value]))
                    }
                } else {
                    result.paras[name] = value
                }
            }
        }
        guard cursor.remaining == 0 else {
            throw DecodeError(.trailingBytes(count: cursor.remaining), offset: cursor.offset)
        }
        return result
    }

    private func decodeValue(_ field: CodecField, _ slice: ArraySlice<UInt8>, property: ProductModel.Property,
                             integer: Int64?, offset: Int) throws(DecodeError) -> JSONValue {
        switch field.type {
        case .int8u, .int16u, .int24u, .int32u, .int8s, .int16s, .int24s, .int32s:
            let value = integer ?? 0
            switch property.type {
            case .boolean: return .bool(value != 0)
            case .decimal where field.decimals > 0: return .double(Double(value) / Self.powerOfTen(field.decimals))
            default: return .int(value)
            }
        case .float:
            let number = Float(bitPattern: UInt32(truncatingIfNeeded: BigEndian.unsigned(slice)))
            guard number.isFinite else { throw DecodeError(.notFinite(field: field.name), offset: offset) }
            // The shortest text of the float, so 0.1 reads 0.1 and not 0.10000000149011612.
            return .double(Double("\(number)") ?? Double(number))
        case .double:
            let number = Double(bitPattern: BigEndian.unsigned(slice))
            guard number.isFinite else { throw DecodeError(.notFinite(field: field.name), offset: offset) }
            return .double(number)
        case .string, .varstring:
            var text = Array(slice)
            if field.type == .string { while text.last == 0 { text.removeLast() } }
            if let index = text.firstIndex(where: { $0 > 0x7F }) {
                throw DecodeError(.notASCII(field: field.name, byte: text[index]), offset: offset + index)
            }
            let string = String(decoding: text, as: UTF8.self)
            if property.type == .decimal {
                let trimmed = string.trimmingCharacters(in: .whitespaces)
                guard let number = Double(trimmed), number.isFinite else {
                    throw DecodeError(.notANumber(field: field.name, text: string), offset: offset)
                }
                return .double(number)
            }
            return .string(string)
        case .array, .variant:
            return .string(Data(slice).base64EncodedString())
        }
    }

    static func powerOfTen(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<max(0, exponent) { result *= 10 }
        return result
    }

    // MARK: - Encoding

    /// Encodes every field of `message`; `value` gives the JSON value of mapped fields.
    func encodeFields(of message: CodecMessage, mid: UInt16?, errcode: Int64?, path: String,
                      value: (CodecField) -> JSONValue?) throws(EncodeError) -> [UInt8] {
        var chunks: [[UInt8]] = []
        for field in message.fields {
            let fieldPath = Self.path(path, field)
            switch field.role {
            case .messageId:
                chunks.append(BigEndian.bytes(field.type.bitPattern(of: message.messageId ?? 0), size: field.type.scalarSize ?? 0))
            case .mid:
                guard let mid else { throw EncodeError(.invalidMid, path: "mid") }
                chunks.append(BigEndian.bytes(UInt64(mid), size: field.type.scalarSize ?? 0))
            case .errcode:
                let code = errcode ?? 0
                guard let range = field.type.integerRange, range.contains(code) else {
                    throw EncodeError(.outOfRange("errcode \(code) does not fit \(field.type.rawValue)"), path: "errcode")
                }
                chunks.append(BigEndian.bytes(field.type.bitPattern(of: code), size: field.type.scalarSize ?? 0))
            case .length:
                chunks.append([])   // filled in below, once the field it measures is encoded
            case .constant:
                chunks.append(field.defaultBytes ?? [UInt8](repeating: 0, count: field.fixedSize ?? 0))
            case .value(_, _, let property):
                if let json = value(field) {
                    // Arrays and variants are Base64 text whatever the property type (the platform
                    // lets int and decimal properties take them too): only text properties are
                    // checked against the model here; the field checks the Base64.
                    let modelChecks = !field.type.isBytes || [.string, .dateTime, .jsonObject].contains(property.type)
                    if modelChecks, let expected = Self.expectedJSONType(json, property) {
                        throw EncodeError(.wrongType(expected: expected, found: json.typeName), path: fieldPath)
                    }
                    if modelChecks, let reason = property.violation(of: json) {
                        throw EncodeError(.outOfRange(reason), path: fieldPath)
                    }
                    chunks.append(try encodeValue(field, json, property: property, path: fieldPath))
                } else if let bytes = field.defaultBytes {
                    chunks.append(bytes)
                } else {
                    throw EncodeError(.missingParameter, path: fieldPath)
                }
            }
        }
        for (index, field) in message.fields.enumerated() {
            guard case .length(let target) = field.role,
                  let targetIndex = message.fields.firstIndex(where: { $0.name == target }) else { continue }
            let count = Int64(chunks[targetIndex].count)
            guard let range = field.type.integerRange, range.contains(count), let size = field.type.scalarSize else {
                throw EncodeError(.tooLong(length: Int(count), maximum: Int(field.type.integerRange?.upperBound ?? 0)),
                                  path: Self.path(path, message.fields[targetIndex]))
            }
            chunks[index] = BigEndian.bytes(UInt64(count), size: size)
        }
        let frame = chunks.flatMap { $0 }
        guard frame.count <= Self.maximumFrameBytes else { throw EncodeError(.frameTooLong(length: frame.count), path: path) }
        return frame
    }

    /// The JSON type the property needs, when `json` is not of it.
    static func expectedJSONType(_ json: JSONValue, _ property: ProductModel.Property) -> String? {
        switch property.type {
        case .int: json.intValue == nil ? "integer" : nil
        case .decimal: json.doubleValue == nil ? "number" : nil
        case .string, .dateTime: json.stringValue == nil ? "string" : nil
        case .boolean: json.boolValue == nil && json.intValue.map({ $0 == 0 || $0 == 1 }) != true ? "boolean" : nil
        case .jsonObject: nil
        }
    }

    static func path(_ prefix: String, _ field: CodecField) -> String {
        switch field.role {
        case .value(let service, let name, _): prefix == "services" ? "services.\(service).\(name)" : "\(prefix).\(name)"
        default: "\(prefix).\(field.name)"
        }
    }

    private func encodeValue(_ field: CodecField, _ json: JSONValue, property: ProductModel.Property,
                             path: String) throws(EncodeError) -> [UInt8] {
        switch field.type {
        case .int8u, .int16u, .int24u, .int32u, .int8s, .int16s, .int24s, .int32s:
            let integer = try Self.integer(json, field: field, property: property, path: path)
            guard let range = field.type.integerRange, range.contains(integer), let size = field.type.scalarSize else {
                let range = field.type.integerRange.map { "\($0.lowerBound)…\($0.upperBound)" } ?? ""
                throw EncodeError(.outOfRange("\(integer) does not fit \(field.type.rawValue) (\(range))"), path: path)
            }
            return BigEndian.bytes(field.type.bitPattern(of: integer), size: size)
        case .float:
            guard let number = json.doubleValue else { throw EncodeError(.wrongType(expected: "number", found: json.typeName), path: path) }
            let single = Float(number)
            guard single.isFinite else { throw EncodeError(.outOfRange("\(number) does not fit a float"), path: path) }
            return BigEndian.bytes(UInt64(single.bitPattern), size: 4)
        case .double:
            guard let number = json.doubleValue else { throw EncodeError(.wrongType(expected: "number", found: json.typeName), path: path) }
            return BigEndian.bytes(number.bitPattern, size: 8)
        case .string, .varstring:
            let text: String
            switch json {
            case .string(let s): text = s
            case .int(let i) where property.type == .decimal: text = String(i)
            case .double(let d) where property.type == .decimal: text = JSONText.number(d)
            case .object, .array: text = JSONText.serialize(json)
            default: throw EncodeError(.wrongType(expected: "string", found: json.typeName), path: path)
            }
            guard text.unicodeScalars.allSatisfy(\.isASCII) else { throw EncodeError(.notASCII, path: path) }
            return try Self.sized(Array(text.utf8), field: field, path: path)
        case .array, .variant:
            guard let text = json.stringValue else {
                throw EncodeError(.wrongType(expected: "Base64 string", found: json.typeName), path: path)
            }
            guard let bytes = StrictBase64.decode(text) else { throw EncodeError(.invalidBase64, path: path) }
            return try Self.sized(bytes, field: field, path: path)
        }
    }

    /// Fixed-length fields are padded with 0x00; every field is held to its maximum.
    private static func sized(_ bytes: [UInt8], field: CodecField, path: String) throws(EncodeError) -> [UInt8] {
        let maximum = min(field.length ?? maximumFrameBytes, maximumFrameBytes)
        guard bytes.count <= maximum else { throw EncodeError(.tooLong(length: bytes.count, maximum: maximum), path: path) }
        guard let fixed = field.fixedSize else { return bytes }
        return bytes + [UInt8](repeating: 0, count: fixed - bytes.count)
    }

    private static func integer(_ json: JSONValue, field: CodecField, property: ProductModel.Property,
                                path: String) throws(EncodeError) -> Int64 {
        if property.type == .boolean, let flag = json.boolValue { return flag ? 1 : 0 }
        if property.type == .decimal, field.decimals > 0 {
            guard let number = json.doubleValue else {
                throw EncodeError(.wrongType(expected: "number", found: json.typeName), path: path)
            }
            let scaled = (number * powerOfTen(field.decimals)).rounded()
            guard scaled.isFinite, abs(scaled) < 9.0e18 else {
                throw EncodeError(.outOfRange("\(number) does not fit \(field.type.rawValue)"), path: path)
            }
            return Int64(scaled)
        }
        if let integer = json.intValue { return integer }
        if let number = json.doubleValue {
            throw EncodeError(.outOfRange("\(JSONText.number(number)) has a fraction; \(field.type.rawValue) holds integers"), path: path)
        }
        throw EncodeError(.wrongType(expected: "integer", found: json.typeName), path: path)
    }
}
