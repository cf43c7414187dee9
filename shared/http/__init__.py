"""The Lambda proxy integration: parse requests, render responses, map domain errors (endpoint plumbing)."""
