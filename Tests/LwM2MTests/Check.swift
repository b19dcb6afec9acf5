import Testing

/// `#expect` for a condition that calls a mutating method (the macro's decomposition cannot).
func check(_ condition: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(condition, sourceLocation: sourceLocation)
}
