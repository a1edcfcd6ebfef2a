package sealapi

// ErrorDomain is the domain of the google.rpc.ErrorInfo that the service
// attaches to a refusal; its reason is the rule that refused.
const ErrorDomain = "eseal.seal.v1"
