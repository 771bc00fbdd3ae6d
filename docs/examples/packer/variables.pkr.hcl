# Variables of golden.pkr.hcl. Override with -var NAME=VALUE or a
# *.auto.pkrvars.hcl file. Secrets are NOT variables: the signing key's
# password comes from COSIGN_PASSWORD in the environment of `packer build`
# (a CI secret), see docs/packer.md.

variable "region" {
  type        = string
  description = "Region the image is built in (its AMI is the first subject)."
  default     = "us-east-1"
}

variable "ami_regions" {
  type        = list(string)
  description = "Regions the AMI is copied to; every copy is another REGION:AMI-ID subject of the same attestations."
  default     = ["eu-west-1"]
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "source_ami_name" {
  type        = string
  description = "Name filter of the base AMI (Debian 12, amd64)."
  default     = "debian-12-amd64-*"
}

variable "source_ami_owner" {
  type        = string
  description = "Owner of the base AMI (Debian's AWS account)."
  default     = "136693071363"
}

variable "ssh_username" {
  type    = string
  default = "admin"
}

variable "ami_name_prefix" {
  type    = string
  default = "golden"
}

variable "bakeproof_binary" {
  type        = string
  description = "Local path of the binary to install as /usr/local/bin/bakeproof; built for the image's architecture and libc."
  default     = "dist/bakeproof"
}

variable "trusted_keys_dir" {
  type        = string
  description = "Local directory of the public keys (*.pub) the image trusts at boot; installed as /etc/bakeproof/keys/."
  default     = "keys"
}

variable "identity_certs_dir" {
  type        = string
  description = "Local directory of AWS instance-identity certificates, one PEM per region the AMI runs in (REGION.pem); installed as /etc/bakeproof/aws-identity/."
  default     = "aws-identity"
}

variable "signing_key" {
  type        = string
  description = "Local path of the cosign private key, on the build host only (never uploaded)."
  default     = "cosign.key"
}

variable "signing_public_key" {
  type        = string
  description = "Its public key; must be one of the keys in trusted_keys_dir."
  default     = "keys/release.pub"
}

variable "store" {
  type        = string
  description = "Attestation store: publish writes here, the instances' bakeproof verify reads here."
  default     = "s3://example-attestations/prod"
}

variable "store_region" {
  type        = string
  description = "Region of the store's bucket."
  default     = "us-east-1"
}

variable "verify_level" {
  type        = string
  description = "Level of the first-boot check: attestation, packages or files."
  default     = "packages"
}

variable "seal_strict" {
  type        = bool
  description = "Fail the build on seal warnings too (bakeproof verify rejects them at boot unless tolerated with --allow-warn)."
  default     = true
}

variable "output_dir" {
  type        = string
  description = "Local directory for the downloaded SBOM and seal report, the manifest and the attestations (one subdirectory per source)."
  default     = "build"
}
