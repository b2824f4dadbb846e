# The no-cors example of `examples/` as Terraform. Seed scenario 1: no <cors> anywhere, while
# the portal calls these APIs from a browser.

resource "azurerm_api_management_policy" "global" {
  api_management_id = var.apim_id
  xml_content       = <<-XML
    <policies>
      <inbound />
      <backend>
        <forward-request />
      </backend>
      <outbound />
      <on-error />
    </policies>
  XML
}

resource "azurerm_api_management_api" "inventory" {
  name                = "inventory"
  resource_group_name = "contoso"
  api_management_name = "contoso-apim"
  revision            = "1"
}

resource "azurerm_api_management_api_policy" "inventory" {
  api_name            = azurerm_api_management_api.inventory.name
  api_management_name = "contoso-apim"
  resource_group_name = "contoso"
  xml_content         = <<-XML
    <policies>
      <inbound>
        <base />
        <rewrite-uri template="/v2/inventory" />
      </inbound>
      <backend>
        <base />
      </backend>
      <outbound>
        <base />
      </outbound>
      <on-error>
        <base />
      </on-error>
    </policies>
  XML
}
