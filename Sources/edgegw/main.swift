import Gateway
print("edgegw \(GatewayInfo.version)")
