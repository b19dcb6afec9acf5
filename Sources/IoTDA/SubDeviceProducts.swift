import GatewayCore

// The gateway queries the products of its children (spec §2.10).

/// UP `get_products`.
public struct GetProducts: Sendable, Equatable, Codable {
    public var productIds: [String]
    public init(productIds: [String]) { self.productIds = productIds }
    enum CodingKeys: String, CodingKey { case productIds = "product_ids" }
}

/// DOWN `get_products_response`. `ProductInfo` is not defined by the documents: kept as raw JSON.
public struct GetProductsResponse: Sendable, Equatable, Codable {
    public var products: [JSONValue]
    public init(products: [JSONValue]) { self.products = products }
}
