import DeviceCodec
import Foundation
import GatewayCore

/// `codec-encode`: JSON parameters from the cloud through a product codec's encoder, the way
/// the gateway turns a platform command into device bytes (`ProductCodec.encode`), and the
/// device side's encoders (command responses and reports, as simulators and
/// `edgegw codec encode` build them).
///
/// Input: one byte choosing the message (every command, command response and report of the
/// codecs in `FuzzCodecs`), two bytes of `mid`, one of `errcode`, then the JSON object.
///
/// Round trip: what encodes decodes (`decodeDownlink` for a command, `decode` for the others)
/// to the same message, `mid` and `errcode`, and to the values given, as the field's wire type
/// carries them: integers scaled by `decimals` and rounded, a float to single precision,
/// fixed-length text without its padding, text parsed as a number for a decimal property.
enum CodecEncodeTarget {
    static let target = FuzzTarget(
        name: "codec-encode", maxInputBytes: 4096,
        summary: "ProductCodec.encode/encodeCommandResponse/encodeReport from JSON paras; decodeDownlink/decode give the values back",
        run: run)

    struct Choice: Sendable {
        var codec: ProductCodec
        var message: CodecMessage
    }

    static let choices: [Choice] = FuzzCodecs.all.flatMap { codec in
        (codec.downlink + codec.uplink).filter { $0.kind != .reportResponse }.map { Choice(codec: codec, message: $0) }
    }

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let choice = choices[Int(input.byte()) % choices.count]
        let mid = input.word()
        let errcode = Int64(Int8(bitPattern: input.byte()))
        guard let paras = try? JSONDecoder().decode(JSONObject.self, from: Data(input.takeRest())) else { return }
        let codec = choice.codec, message = choice.message
        let context = "\(codec.productId) \(message.name), mid \(mid), paras \(JSONText.serialize(.object(paras)))"
        switch message.kind {
        case .command:
            guard let command = message.command else { return }
            _ = codec.expectsResponse(command: command, serviceId: message.serviceId)
            guard let frame = encoded(context, { () throws(EncodeError) in
                try codec.encode(command: command, serviceId: message.serviceId, paras: paras, mid: mid)
            }) else { return }
            let decoded = Result { () throws(DecodeError) in try codec.decodeDownlink(frame) }
            guard case .success(.command(let back)) = decoded else {
                FuzzCheck.fail("\(context): encoded as \(hexText(frame)), decodes to \(decoded)")
            }
            let hasMid = message.fields.contains { $0.role == .mid }
            FuzzCheck.require(back.message == message.name && back.command == command && back.mid == (hasMid ? mid : nil),
                              "\(context): encoded as \(hexText(frame)), decodes to \(back)")
            checkValues(message, given: { paras[$0] }, decoded: { back.paras[$0] }, context: context, frame: frame)
        case .commandResponse:
            guard let command = message.command else { return }
            guard let frame = encoded(context, { () throws(EncodeError) in
                try codec.encodeCommandResponse(command: command, serviceId: message.serviceId, mid: mid, errcode: errcode, paras: paras)
            }) else { return }
            let decoded = Result { () throws(DecodeError) in try codec.decode(frame) }
            guard case .success(.commandResponse(let back)) = decoded else {
                FuzzCheck.fail("\(context): encoded as \(hexText(frame)), decodes to \(decoded)")
            }
            let hasErrcode = message.fields.contains { $0.role == .errcode }
            FuzzCheck.require(back.message == message.name && back.mid == mid && back.errcode == (hasErrcode ? errcode : nil),
                              "\(context), errcode \(errcode): encoded as \(hexText(frame)), decodes to \(back)")
            checkValues(message, given: { paras[$0] }, decoded: { back.paras[$0] }, context: context, frame: frame)
        case .report:
            let services = Set(message.fields.compactMap { field -> String? in
                if case .value(let service, _, _) = field.role { return service }
                return nil
            }).sorted().map { ServiceReport(serviceId: $0, properties: paras) }
            guard let frame = encoded(context, { () throws(EncodeError) in
                try codec.encodeReport(message: message.name, services: services)
            }) else { return }
            let decoded = Result { () throws(DecodeError) in try codec.decode(frame) }
            guard case .success(.report(let back)) = decoded, back.message == message.name else {
                FuzzCheck.fail("\(context): encoded as \(hexText(frame)), decodes to \(decoded)")
            }
            func value(_ service: String, _ name: String) -> JSONValue? {
                back.services.first { $0.serviceId == service }?.properties[name]
            }
            checkValues(message, given: { paras[$0] }, decoded: { name in
                for field in message.fields {
                    if case .value(let service, let property, _) = field.role, property == name { return value(service, name) }
                }
                return nil
            }, context: context, frame: frame)
        case .reportResponse:
            return
        }
    }

    /// The frame, or nil when the encoder refuses the values; a refusal says why, and a frame
    /// is never longer than the codec's bound.
    static func encoded(_ context: String, _ encode: () throws(EncodeError) -> [UInt8]) -> [UInt8]? {
        do {
            let frame = try encode()
            FuzzCheck.require(frame.count <= ProductCodec.maximumFrameBytes, "\(context): a frame of \(frame.count) bytes")
            return frame
        } catch {
            FuzzCheck.require(!error.description.isEmpty, "\(context): a refusal without a reason")
            return nil
        }
    }

    static func checkValues(_ message: CodecMessage, given: (String) -> JSONValue?, decoded: (String) -> JSONValue?,
                            context: String, frame: [UInt8]) {
        for field in message.fields {
            guard case .value(_, let name, let property) = field.role, let value = given(name) else { continue }
            let expected = carried(value, by: field, property: property)
            FuzzCheck.require(expected != nil && decoded(name) == expected,
                              "\(context): \(name) = \(JSONText.serialize(value)) encoded as \(hexText(frame)) decodes to \(decoded(name).map(JSONText.serialize) ?? "nothing"), expected \(expected.map(JSONText.serialize) ?? "a refusal")")
        }
    }

    /// What a value the encoder took reads as once it has been through a field of this type.
    static func carried(_ value: JSONValue, by field: CodecField, property: ProductModel.Property) -> JSONValue? {
        let scale = (0..<field.decimals).reduce(1.0) { result, _ in result * 10 }
        switch field.type {
        case .int8u, .int16u, .int24u, .int32u, .int8s, .int16s, .int24s, .int32s:
            let integer: Int64
            if property.type == .boolean, let flag = value.boolValue {
                integer = flag ? 1 : 0
            } else if property.type == .decimal, field.decimals > 0 {
                guard let number = value.doubleValue else { return nil }
                integer = Int64((number * scale).rounded())
            } else {
                guard let whole = value.intValue else { return nil }
                integer = whole
            }
            switch property.type {
            case .boolean: return .bool(integer != 0)
            case .decimal where field.decimals > 0: return .double(Double(integer) / scale)
            default: return .int(integer)
            }
        case .float:
            guard let number = value.doubleValue else { return nil }
            let single = Float(number)
            return .double(Double("\(single)") ?? Double(single))
        case .double:
            return value.doubleValue.map(JSONValue.double)
        case .string, .varstring:
            var text: String
            switch value {
            case .string(let string): text = string
            case .int(let integer) where property.type == .decimal: text = String(integer)
            case .double(let number) where property.type == .decimal: text = JSONText.number(number)
            case .object, .array: text = JSONText.serialize(value)
            default: return nil
            }
            if field.type == .string { while text.hasSuffix("\0") { text.removeLast() } }
            guard property.type == .decimal else { return .string(text) }
            return Double(text.trimmingCharacters(in: .whitespaces)).map(JSONValue.double)
        case .array, .variant:
            guard let text = value.stringValue, var bytes = StrictBase64.decode(text) else { return nil }
            if field.type == .array, let length = field.length { bytes += [UInt8](repeating: 0, count: max(0, length - bytes.count)) }
            return .string(Data(bytes).base64EncodedString())
        }
    }
}
