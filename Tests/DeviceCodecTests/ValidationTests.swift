import DeviceCodec
import GatewayCore
import Testing

/// Every validation rule rejects a crafted product file, and says where: file:line.
@Suite struct ValidationTests {
    /// Two reports, a command with its response and a report response: valid as it stands.
    static func codecText(
        report1: String = "", report2: String = "", command: String = "", response: String = "", ack: String = "",
        report1Fields: String? = nil, report2Fields: String? = nil, commandFields: String? = nil, responseFields: String? = nil
    ) -> String {
        productHeader(properties: [("a", "int"), ("b", "int"), ("s", "string")], paras: [("p", "int")], responses: [("r", "int")]) + """
        [[codec.uplink]]
        name = "one"
        kind = "report"
        message_id = 1
        service = "S"
        \(report1)
        \(report1Fields ?? """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "a"
        type = "int16u"
        """)

        [[codec.uplink]]
        name = "two"
        kind = "report"
        message_id = 2
        service = "S"
        \(report2)
        \(report2Fields ?? """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "b"
        type = "int32s"
        """)

        [[codec.uplink]]
        name = "cmdResult"
        kind = "command_response"
        message_id = 3
        command = "CMD"
        \(response)
        \(responseFields ?? """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "mid"
        type = "int16u"

        [[codec.uplink.fields]]
        name = "r"
        type = "int8u"
        """)

        [[codec.downlink]]
        name = "cmd"
        kind = "command"
        message_id = 0x10
        command = "CMD"
        \(command)
        \(commandFields ?? """
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.downlink.fields]]
        name = "mid"
        type = "int16u"

        [[codec.downlink.fields]]
        name = "p"
        type = "int8u"
        """)

        [[codec.downlink]]
        name = "ack"
        kind = "report_response"
        message_id = 0x11
        \(ack)

        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"
        """
    }

    /// The file is rejected with a diagnostic on the line marked `# <-- here` that mentions `phrase`.
    func expectRejected(_ text: String, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fixture = CodecFixture(text, file: "products/bad.toml")
        #expect(fixture.codec == nil, sourceLocation: sourceLocation)
        let line = CodecFixture.line(of: "# <-- here", in: text)
        #expect(line != nil, "the test text needs a marker", sourceLocation: sourceLocation)
        let matching = fixture.diagnostics.filter { $0.problem.contains(phrase) }
        #expect(!matching.isEmpty, "no diagnostic says \"\(phrase)\": \(fixture.diagnostics)", sourceLocation: sourceLocation)
        #expect(matching.contains { $0.line == line && $0.file == "products/bad.toml" },
                "expected line \(line ?? -1), got \(matching.map(\.description))", sourceLocation: sourceLocation)
        #expect(matching.allSatisfy { $0.description.hasPrefix("products/bad.toml:") }, sourceLocation: sourceLocation)
    }

    @Test func baseFileIsValid() throws {
        let fixture = CodecFixture(Self.codecText())
        #expect(fixture.diagnostics == [])
        let codec = try #require(fixture.codec)
        #expect(codec.uplink.count == 3 && codec.downlink.count == 2)
    }

    @Test func fileWithoutCodecHasNoCodecAndNoComplaint() {
        let fixture = CodecFixture(productHeader())
        #expect(fixture.codec == nil)
        #expect(fixture.diagnostics == [])
    }

    // MARK: messageId

    @Test func messageIdRequiredWhenADirectionHasSeveralMessages() {
        // A command response counts as an uplink message: "two" is one of three.
        expectRejected(Self.codecText(report2Fields: """
        [[codec.uplink.fields]]
        name = "b"
        type = "int32s"
        """).replacingOccurrences(of: "name = \"two\"", with: "name = \"two\"").replacingOccurrences(
            of: "[[codec.uplink]]\nname = \"two\"", with: "[[codec.uplink]] # <-- here\nname = \"two\""),
            "has no messageId field")
    }

    @Test func messageIdAtTheSamePlace() {
        expectRejected(Self.codecText(report2Fields: """
        [[codec.uplink.fields]]
        name = "b"
        type = "int32s"

        [[codec.uplink.fields]]
        name = "messageId" # <-- here
        type = "int8u"
        """), "messageId is field #2")
    }

    @Test func messageIdOfTheSameType() {
        expectRejected(Self.codecText(report2Fields: """
        [[codec.uplink.fields]]
        name = "messageId" # <-- here
        type = "int16u"

        [[codec.uplink.fields]]
        name = "b"
        type = "int32s"
        """), "int16u at byte 0")
    }

    @Test func messageIdValuesUnique() {
        expectRejected(Self.codecText().replacingOccurrences(of: "message_id = 2", with: "message_id = 1 # <-- here"),
                       "message_id 1 is also used by \"one\"")
    }

    @Test func messageIdMustBeAnInteger() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "string" # <-- here
        length = 1

        [[codec.uplink.fields]]
        name = "a"
        type = "int16u"
        """), "messageId must be an integer type")
    }

    @Test func messageIdValueMustFitItsField() {
        expectRejected(Self.codecText().replacingOccurrences(of: "message_id = 0x10", with: "message_id = 256 # <-- here"),
                       "does not fit the int8u messageId field")
    }

    @Test func messageIdFieldNeedsAValue() {
        expectRejected(Self.codecText().replacingOccurrences(of: "[[codec.uplink]]\nname = \"two\"\nkind = \"report\"\nmessage_id = 2",
                                                             with: "[[codec.uplink]] # <-- here\nname = \"two\"\nkind = \"report\""),
                       "has a messageId field but no message_id value")
    }

    @Test func framesMustNotStartWithThePCPMarker() {
        let text = Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int16u"
        """, report2Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int16u"
        """, responseFields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int16u"

        [[codec.uplink.fields]]
        name = "mid"
        type = "int16u"
        """).replacingOccurrences(of: "message_id = 2", with: "message_id = 0xFFFE # <-- here")
        expectRejected(text, "FF FE")
    }

    // MARK: mid

    @Test func midAtTheSamePlaceInCommandAndResponse() {
        expectRejected(Self.codecText(responseFields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "r"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "mid" # <-- here
        type = "int16u"
        """), "mid is field #3 here but field #2")
    }

    @Test func commandWithAResponseNeedsMid() {
        expectRejected(Self.codecText(commandFields: """
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.downlink.fields]]
        name = "p"
        type = "int8u"
        """).replacingOccurrences(of: "[[codec.downlink]]\nname = \"cmd\"", with: "[[codec.downlink]] # <-- here\nname = \"cmd\""),
            "has a response but no mid field")
    }

    @Test func responseNeedsMid() {
        expectRejected(Self.codecText(responseFields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"
        """).replacingOccurrences(of: "[[codec.uplink]]\nname = \"cmdResult\"", with: "[[codec.uplink]] # <-- here\nname = \"cmdResult\""),
            "has no mid field")
    }

    @Test func midIsSixteenBits() {
        expectRejected(Self.codecText(commandFields: """
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.downlink.fields]]
        name = "mid"
        type = "int8u" # <-- here

        [[codec.downlink.fields]]
        name = "p"
        type = "int8u"
        """), "mid must be int16u")
    }

    @Test func responseWithoutItsCommand() {
        var text = Self.codecText()
        text = text.replacingOccurrences(of: "command = \"CMD\"\n\n[[codec.downlink.fields]]", with: "command = \"CMD\"\nX")
        // Simpler: point the command message at a command name the response does not use.
        let other = productHeader(properties: [("a", "int")], paras: [("p", "int")], responses: [("r", "int")])
            + """
            [[services.commands]]
            name = "OTHER"

            [[codec.uplink]]
            name = "res"
            kind = "command_response"
            command = "OTHER" # <-- here

            [[codec.uplink.fields]]
            name = "mid"
            type = "int16u"
            """
        expectRejected(other, "no [[codec.downlink]] command message encodes \"OTHER\"")
    }

    // MARK: types, names, lengths, defaults

    @Test func fieldTypeMustFitThePropertyType() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "s"
        type = "int16u" # <-- here
        """), "a int16u field cannot carry string property \"s\"")
    }

    @Test func floatCannotCarryAnInt() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "a"
        type = "float" # <-- here
        """), "cannot carry int property")
    }

    @Test func fieldNamesUniqueInAMessage() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "a"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "a" # <-- here
        type = "int8u"
        """), "field \"a\" is declared twice")
    }

    @Test func messageNamesUnique() {
        expectRejected(Self.codecText().replacingOccurrences(of: "name = \"two\"", with: "name = \"one\" # <-- here"),
                       "message name \"one\" is also used")
    }

    @Test func javaKeywordsAreRefused() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "int" # <-- here
        type = "int8u"
        map = false
        """), "Java keyword")
    }

    @Test func stringNeedsALength() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "s"
        type = "string" # <-- here
        """), "needs length = N")
    }

    @Test func scalarLengthMustMatchItsType() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "a"
        type = "int16u"
        length = 4 # <-- here
        """), "int16u is always 2 byte(s)")
    }

    @Test func varstringNeedsALengthField() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "s"
        type = "varstring" # <-- here
        """), "needs length_field")
    }

    @Test func lengthFieldMustComeFirst() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "s"
        type = "varstring"
        length_field = "n" # <-- here

        [[codec.uplink.fields]]
        name = "n"
        type = "int8u"
        """), "is not an earlier field")
    }

    @Test func lengthFieldMustBeUnsigned() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "n"
        type = "int8s"

        [[codec.uplink.fields]]
        name = "s"
        type = "varstring"
        length_field = "n" # <-- here
        """), "must be an unsigned integer")
    }

    @Test func maximumLengthMustFitTheLengthField() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "n"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "s"
        type = "varstring"
        length_field = "n"
        length = 300 # <-- here
        """), "cannot be held by int8u")
    }

    @Test func messageIdBeforeVariableFields() {
        let fields = """
        [[codec.uplink.fields]]
        name = "n"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "s"
        type = "varstring"
        length_field = "n"

        [[codec.uplink.fields]]
        name = "messageId" # <-- here
        type = "int8u"
        """
        expectRejected(Self.codecText(report1Fields: fields), "messageId must come before any varstring/variant field")
    }

    @Test func defaultsAreHex() {
        expectRejected(Self.codecText(commandFields: """
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.downlink.fields]]
        name = "mid"
        type = "int16u"

        [[codec.downlink.fields]]
        name = "p"
        type = "int8u"
        default = "12g" # <-- here
        """), "is not hexadecimal")
    }

    @Test func defaultsFitTheirField() {
        expectRejected(Self.codecText(commandFields: """
        [[codec.downlink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.downlink.fields]]
        name = "mid"
        type = "int16u"

        [[codec.downlink.fields]]
        name = "p"
        type = "int8u"
        default = "0x1FF" # <-- here
        """), "does not fit int8u")
    }

    @Test func defaultsAreWholeBytesForArrays() {
        expectRejected(Self.codecText(ack: """

        [[codec.downlink.fields]]
        name = "pad"
        type = "array"
        length = 2
        default = "ABC" # <-- here
        """), "odd number of hex digits")
    }

    @Test func unknownKeysAreFlagged() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "a"
        type = "int16u"
        lenght = 2 # <-- here
        """), "unknown key")
    }

    @Test func unknownPropertyIsNamed() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "x"
        type = "int16u"
        property = "nope" # <-- here
        """), "service \"S\" has no property \"nope\"")
    }

    @Test func kindMustMatchTheDirection() {
        expectRejected(Self.codecText().replacingOccurrences(of: "kind = \"report_response\"",
                                                             with: "kind = \"report\" # <-- here"),
                       "report is a uplink message, not downlink")
    }

    @Test func decimalsOnlyForDecimalProperties() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "a"
        type = "int16u"
        decimals = 2 # <-- here
        """), "decimals applies to integer fields mapped to a decimal property")
    }

    @Test func emptyCodecTableIsAMistake() {
        expectRejected(productHeader() + "[codec] # <-- here\n", "the codec declares no message")
    }

    @Test func unknownKindIsOneProblemNotMany() {
        let text = Self.codecText().replacingOccurrences(of: "kind = \"report_response\"", with: "kind = \"reply\" # <-- here")
        expectRejected(text, "unknown value \"reply\"")
        #expect(CodecFixture(text).diagnostics.count == 1)
    }

    @Test func everyProblemIsReportedInOnePass() {
        let text = Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "s"
        type = "int16u"
        default = "zz"
        """).replacingOccurrences(of: "message_id = 2", with: "message_id = 1")
        let problems = CodecFixture(text).diagnostics.map(\.problem)
        #expect(problems.contains { $0.contains("cannot carry string property") })
        #expect(problems.contains { $0.contains("is not hexadecimal") })
        #expect(problems.contains { $0.contains("message_id 1 is also used") })
    }

    @Test func requiredParametersNeedAField() {
        let text = productHeader(properties: [], paras: [("p", "int")], responses: []).replacingOccurrences(
            of: "name = \"p\"\ntype = \"int\"\n", with: "name = \"p\"\ntype = \"int\"\nrequired = true\n") + """
        [[codec.downlink]]
        name = "c"
        kind = "command"
        command = "CMD" # <-- here

        [[codec.downlink.fields]]
        name = "pad"
        type = "int8u"
        map = false
        """
        expectRejected(text, "required parameter \"p\" of command \"CMD\" has no field")
    }

    @Test func reportResponseAnswersDeclaredReports() {
        expectRejected(Self.codecText(ack: "responds_to = [\"nope\"] # <-- here"), "\"nope\" is not a report message")
    }

    @Test func midOnlyInCommandsAndResponses() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"

        [[codec.uplink.fields]]
        name = "mid" # <-- here
        type = "int16u"
        """), "mid belongs only in commands and command responses")
    }

    @Test func specialFieldsMapNothing() {
        expectRejected(Self.codecText(report1Fields: """
        [[codec.uplink.fields]]
        name = "messageId"
        type = "int8u"
        property = "a" # <-- here
        """), "messageId is a special field and maps nothing")
    }
}
