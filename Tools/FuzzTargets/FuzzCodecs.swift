import DeviceCodec
import GatewayCore

/// The codecs the codec targets decode and encode with: every sample product's, and a test
/// product's that declares every field type and every role (the samples use a few of them).
enum FuzzCodecs {
    static let all: [ProductCodec] = {
        let samples = SampleFiles.codecs.keys.sorted().compactMap { SampleFiles.codecs[$0] }
        guard let everyType = productFile(everyTypeProduct, file: "fuzz-every-type.toml").1 else {
            FuzzCheck.fail("fuzz-every-type.toml declares no codec")
        }
        return samples + [everyType]
    }()

    /// Every wire type (integers of each width and sign, float, double, string, varstring,
    /// array, variant), every role (messageId, mid, errcode, length fields, constants with a
    /// default, values), integers scaled by decimals and mapped to booleans, strings mapped to
    /// decimals, a command with a response and one without, a report response.
    static let everyTypeProduct = """
        [product]
        id = "fuzz-every-type"
        protocol = "LwM2M"
        data_format = "binary"

        [[services]]
        id = "S"

        [[services.properties]]
        name = "a"
        type = "int"
        [[services.properties]]
        name = "b"
        type = "decimal"
        [[services.properties]]
        name = "c"
        type = "decimal"
        [[services.properties]]
        name = "d"
        type = "decimal"
        [[services.properties]]
        name = "e"
        type = "string"
        [[services.properties]]
        name = "f"
        type = "decimal"
        [[services.properties]]
        name = "g"
        type = "boolean"
        [[services.properties]]
        name = "h"
        type = "string"
        [[services.properties]]
        name = "i"
        type = "string"
        [[services.properties]]
        name = "j"
        type = "string"
        [[services.properties]]
        name = "u"
        type = "int"
        [[services.properties]]
        name = "v"
        type = "int"
        [[services.properties]]
        name = "w"
        type = "int"
        [[services.properties]]
        name = "x"
        type = "int"
        [[services.properties]]
        name = "y"
        type = "decimal"

        [[services.commands]]
        name = "C"
        [[services.commands.paras]]
        name = "t"
        type = "string"
        [[services.commands.paras]]
        name = "p"
        type = "decimal"
        [[services.commands.paras]]
        name = "q"
        type = "boolean"
        [[services.commands.paras]]
        name = "r"
        type = "decimal"
        [[services.commands.paras]]
        name = "s"
        type = "string"
        [[services.commands.paras]]
        name = "z"
        type = "string"
        [[services.commands.responses]]
        name = "k"
        type = "int"
        [[services.commands.responses]]
        name = "m"
        type = "string"

        [[services.commands]]
        name = "C2"
        [[services.commands.paras]]
        name = "i8"
        type = "int"
        [[services.commands.paras]]
        name = "i16"
        type = "int"
        [[services.commands.paras]]
        name = "i24"
        type = "int"
        [[services.commands.paras]]
        name = "i32"
        type = "int"
        [[services.commands.paras]]
        name = "u8"
        type = "int"
        [[services.commands.paras]]
        name = "u16"
        type = "int"
        [[services.commands.paras]]
        name = "u24"
        type = "int"
        [[services.commands.paras]]
        name = "u32"
        type = "int"
        [[services.commands.paras]]
        name = "dd"
        type = "decimal"
        [[services.commands.paras]]
        name = "fs"
        type = "decimal"
        [[services.commands.paras]]
        name = "js"
        type = "jsonObject"

        [[codec.uplink]]
        name = "allTypes"
        kind = "report"
        message_id = 1
        service = "S"
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"
        [[codec.uplink.fields]]
        name = "a"
        type = "int24s"
        [[codec.uplink.fields]]
        name = "b"
        type = "int32u"
        decimals = 3
        [[codec.uplink.fields]]
        name = "c"
        type = "float"
        [[codec.uplink.fields]]
        name = "d"
        type = "double"
        [[codec.uplink.fields]]
        name = "e"
        type = "string"
        length = 4
        [[codec.uplink.fields]]
        name = "f"
        type = "string"
        length = 3
        [[codec.uplink.fields]]
        name = "g"
        type = "int8u"
        [[codec.uplink.fields]]
        name = "h"
        type = "array"
        length = 2
        [[codec.uplink.fields]]
        name = "pad"
        type = "int16u"
        map = false
        default = "0xBEEF"
        [[codec.uplink.fields]]
        name = "n1"
        type = "int8u"
        [[codec.uplink.fields]]
        name = "i"
        type = "varstring"
        length = 40
        length_field = "n1"
        [[codec.uplink.fields]]
        name = "n2"
        type = "int16u"
        [[codec.uplink.fields]]
        name = "j"
        type = "variant"
        length = 300
        length_field = "n2"

        [[codec.uplink]]
        name = "signed"
        kind = "report"
        message_id = 4
        service = "S"
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"
        [[codec.uplink.fields]]
        name = "u"
        type = "int8s"
        [[codec.uplink.fields]]
        name = "v"
        type = "int16s"
        [[codec.uplink.fields]]
        name = "w"
        type = "int24u"
        [[codec.uplink.fields]]
        name = "x"
        type = "int32s"
        [[codec.uplink.fields]]
        name = "y"
        type = "int16s"
        decimals = 2

        [[codec.uplink]]
        name = "cResult"
        kind = "command_response"
        message_id = 2
        command = "C"
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"
        [[codec.uplink.fields]]
        name = "mid"
        type = "int16u"
        [[codec.uplink.fields]]
        name = "errcode"
        type = "int8s"
        [[codec.uplink.fields]]
        name = "k"
        type = "int16s"
        [[codec.uplink.fields]]
        name = "mlen"
        type = "int8u"
        [[codec.uplink.fields]]
        name = "m"
        type = "varstring"
        length = 16
        length_field = "mlen"

        [[codec.downlink]]
        name = "c"
        kind = "command"
        message_id = 3
        command = "C"
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"
        [[codec.downlink.fields]]
        name = "mid"
        type = "int16u"
        [[codec.downlink.fields]]
        name = "tlen"
        type = "int8u"
        [[codec.downlink.fields]]
        name = "t"
        type = "varstring"
        length = 255
        length_field = "tlen"
        [[codec.downlink.fields]]
        name = "p"
        type = "float"
        [[codec.downlink.fields]]
        name = "q"
        type = "int8u"
        [[codec.downlink.fields]]
        name = "r"
        type = "int32s"
        decimals = 2
        [[codec.downlink.fields]]
        name = "s"
        type = "array"
        length = 3
        [[codec.downlink.fields]]
        name = "zlen"
        type = "int16u"
        [[codec.downlink.fields]]
        name = "z"
        type = "variant"
        length = 64
        length_field = "zlen"

        [[codec.downlink]]
        name = "c2"
        kind = "command"
        message_id = 5
        command = "C2"
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"
        [[codec.downlink.fields]]
        name = "i8"
        type = "int8s"
        [[codec.downlink.fields]]
        name = "i16"
        type = "int16s"
        [[codec.downlink.fields]]
        name = "i24"
        type = "int24s"
        [[codec.downlink.fields]]
        name = "i32"
        type = "int32s"
        [[codec.downlink.fields]]
        name = "u8"
        type = "int8u"
        default = "0x07"
        [[codec.downlink.fields]]
        name = "u16"
        type = "int16u"
        [[codec.downlink.fields]]
        name = "u24"
        type = "int24u"
        [[codec.downlink.fields]]
        name = "u32"
        type = "int32u"
        [[codec.downlink.fields]]
        name = "dd"
        type = "double"
        [[codec.downlink.fields]]
        name = "fs"
        type = "string"
        length = 12
        [[codec.downlink.fields]]
        name = "jslen"
        type = "int8u"
        [[codec.downlink.fields]]
        name = "js"
        type = "varstring"
        length = 200
        length_field = "jslen"

        [[codec.downlink]]
        name = "ack"
        kind = "report_response"
        message_id = 6
        responds_to = ["allTypes"]
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"
        [[codec.downlink.fields]]
        name = "status"
        type = "int16u"
        default = "0x0001"
        """
}
