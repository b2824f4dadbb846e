# The contoso example of `examples/` as Terraform: scenarios 2 to 4, with the policies
# written every way Terraform allows (heredocs, a quoted string, file()).

variable "echo_url" {
  type    = string
  default = "https://echo.contoso.com"
}

resource "azurerm_api_management" "apim" {
  name                = "contoso-apim"
  location            = "westeurope"
  resource_group_name = "contoso"
  publisher_name      = "Contoso"
  publisher_email     = "api@contoso.com"
  sku_name            = "Developer_1"
}

# Seed scenario 3: the rate limit runs before <cors>, so a throttled call comes back without
# CORS headers and the browser reports a CORS error.
resource "azurerm_api_management_policy" "global" {
  api_management_id = azurerm_api_management.apim.id
  xml_content       = <<-XML
    <policies>
        <inbound>
            <rate-limit-by-key calls="100" renewal-period="60" counter-key="@(context.Request.IpAddress)" />
            <cors allow-credentials="true">
                <allowed-origins>
                    <origin>https://admin.contoso.com</origin>
                </allowed-origins>
                <allowed-methods preflight-result-max-age="300">
                    <method>GET</method>
                    <method>POST</method>
                </allowed-methods>
                <allowed-headers>
                    <header>content-type</header>
                    <header>authorization</header>
                </allowed-headers>
            </cors>
        </inbound>
        <backend>
            <forward-request />
        </backend>
        <outbound />
        <on-error />
    </policies>
  XML
}

resource "azurerm_api_management_api" "orders" {
  name                = "orders"
  resource_group_name = "contoso"
  api_management_name = azurerm_api_management.apim.name
  revision            = "1"
  display_name        = "Orders"
  path                = "orders"
  protocols           = ["https"]
}

resource "azurerm_api_management_api" "echo" {
  name                = "echo"
  resource_group_name = "contoso"
  api_management_name = azurerm_api_management.apim.name
  revision            = "1"
  display_name        = "Echo"
  path                = "echo"
  protocols           = ["https"]
}

# Seed scenario 2: <base /> was lost here, so the global <cors> never runs for this API.
resource "azurerm_api_management_api_policy" "orders" {
  api_name            = azurerm_api_management_api.orders.name
  api_management_name = azurerm_api_management.apim.name
  resource_group_name = "contoso"

  xml_content = <<XML
<policies>
	<inbound>
		<set-header name="x-request-id" exists-action="skip">
			<value>@(context.RequestId.ToString())</value>
		</set-header>
		<include-fragment fragment-id="jwt-check" />
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

resource "azurerm_api_management_api_operation_policy" "get_order" {
  api_name            = azurerm_api_management_api.orders.name
  api_management_name = azurerm_api_management.apim.name
  resource_group_name = "contoso"
  operation_id        = "get-order"
  xml_content         = file("${path.module}/policies/get-order.xml")
}

# A healthy API policy: nothing to fix here. The backend URL is a Terraform placeholder.
resource "azurerm_api_management_api_policy" "echo" {
  api_name            = azurerm_api_management_api.echo.name
  api_management_name = azurerm_api_management.apim.name
  resource_group_name = "contoso"
  xml_content         = <<-EOT
    <policies>
      <inbound>
        <base />
        <set-backend-service base-url="${var.echo_url}" />
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
    EOT
}

resource "azurerm_api_management_product" "starter" {
  product_id          = "starter"
  api_management_name = azurerm_api_management.apim.name
  resource_group_name = "contoso"
  display_name        = "Starter"
  published           = true
}

resource "azurerm_api_management_product_api" "starter_orders" {
  product_id          = azurerm_api_management_product.starter.product_id
  api_name            = azurerm_api_management_api.orders.name
  api_management_name = azurerm_api_management.apim.name
  resource_group_name = "contoso"
}

resource "azurerm_api_management_product_api" "starter_echo" {
  product_id          = "starter"
  api_name            = "echo"
  api_management_name = azurerm_api_management.apim.name
  resource_group_name = "contoso"
}

# Seed scenario 4: the product throttles before <base />, so the global <cors> runs too late.
resource "azurerm_api_management_product_policy" "starter" {
  product_id          = azurerm_api_management_product.starter.product_id
  api_management_name = azurerm_api_management.apim.name
  resource_group_name = "contoso"
  xml_content         = "<policies>\n  <inbound>\n    <rate-limit calls=\"5\" renewal-period=\"60\" />\n    <quota calls=\"100\" renewal-period=\"604800\" />\n    <base />\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>\n"
}

resource "azurerm_api_management_policy_fragment" "jwt_check" {
  api_management_id = azurerm_api_management.apim.id
  name              = "jwt-check"
  format            = "rawxml"
  value             = file("${path.module}/policies/jwt-check.xml")
}
