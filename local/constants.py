"""Fixed identifiers of the local stand-in for API Gateway (they only shape events and ARNs)."""

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
API_ID = "localapi01"
STAGE = "local"
