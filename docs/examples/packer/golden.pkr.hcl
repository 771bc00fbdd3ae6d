# A golden Debian 12 AMI with bakeproof: sealed, scanned, attested, published,
# and verified by every instance at first boot. See docs/packer.md.
#
#   export COSIGN_PASSWORD=...        # from a CI secret, never in this template
#   packer init docs/examples/packer
#   packer build docs/examples/packer

packer {
  required_version = ">= 1.10.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

locals {
  timestamp = formatdate("YYYYMMDD-hhmmss", timestamp())
  # Inside the build VM: tmpfs, never part of the image.
  vm_out = "/run/bakeproof"
  # Inside the build VM: uploads for the install step (the seal empties /tmp).
  vm_stage = "/tmp/bakeproof-install"
}

source "amazon-ebs" "golden" {
  region        = var.region
  ami_regions   = var.ami_regions
  instance_type = var.instance_type
  ami_name      = "${var.ami_name_prefix}-${local.timestamp}"

  source_ami_filter {
    filters = {
      name                = var.source_ami_name
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = [var.source_ami_owner]
    most_recent = true
  }

  ssh_username = var.ssh_username

  # The build instance and every instance of the AMI use IMDSv2, which is what
  # `bakeproof verify --ami auto` asks.
  imds_support = "v2.0"
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  tags = {
    Name            = "${var.ami_name_prefix}-${local.timestamp}"
    bakeproof_store = var.store
  }
}

build {
  sources = ["source.amazon-ebs.golden"]

  # On the build host: an empty output directory, so that an SBOM left over
  # from an earlier build can never be attested for this one.
  provisioner "shell-local" {
    inline = [
      "rm -rf '${var.output_dir}/${source.name}'",
      "mkdir -p '${var.output_dir}/${source.name}'",
    ]
  }

  # 1. The image's own provisioning (replace with yours).
  provisioner "shell" {
    inline = [
      "cloud-init status --wait",
      "sudo apt-get update",
      "sudo DEBIAN_FRONTEND=noninteractive apt-get -y install nginx",
    ]
  }

  # 2. The first-boot verifier: binary, trusted keys, identity certificates,
  #    systemd unit. Uploaded to /tmp as the SSH user, installed as root.
  provisioner "shell" {
    inline = ["mkdir -p ${local.vm_stage}/keys ${local.vm_stage}/aws-identity"]
  }

  provisioner "file" {
    source      = var.bakeproof_binary
    destination = "${local.vm_stage}/bakeproof"
  }

  provisioner "file" {
    # Trailing slash: the directory's contents, not the directory.
    source      = "${var.trusted_keys_dir}/"
    destination = "${local.vm_stage}/keys"
  }

  provisioner "file" {
    source      = "${var.identity_certs_dir}/"
    destination = "${local.vm_stage}/aws-identity"
  }

  provisioner "file" {
    source      = "${path.root}/../bakeproof-verify.service"
    destination = "${local.vm_stage}/bakeproof-verify.service"
  }

  provisioner "shell" {
    script = "${path.root}/install-bakeproof.sh"
    environment_vars = [
      "BAKEPROOF_STAGE=${local.vm_stage}",
      "BAKEPROOF_STORE=${var.store}",
      "BAKEPROOF_STORE_REGION=${var.store_region}",
      "BAKEPROOF_VERIFY_LEVEL=${var.verify_level}",
    ]
    execute_command = "{{ .Vars }} sudo -E sh -eu '{{ .Path }}'"
  }

  # 3. LAST change to the image: seal it, then scan it and check the seal.
  #    The script itself lives on tmpfs (/dev/shm), its outputs in /run.
  provisioner "shell" {
    script        = "${path.root}/seal-and-scan.sh"
    remote_folder = "/dev/shm"
    environment_vars = [
      "BAKEPROOF_OUT=${local.vm_out}",
      "BAKEPROOF_NAME=${var.ami_name_prefix}",
      "BAKEPROOF_SEAL_STRICT=${var.seal_strict ? "1" : "0"}",
    ]
    execute_command = "{{ .Vars }} sudo -E sh -eu '{{ .Path }}'"
  }

  # 4. Fetch the SBOM and the seal report from the VM to the build host.
  provisioner "file" {
    direction   = "download"
    source      = "${local.vm_out}/sbom.cdx.json"
    destination = "${var.output_dir}/${source.name}/sbom.cdx.json"
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.vm_out}/seal.json"
    destination = "${var.output_dir}/${source.name}/seal.json"
  }

  # 5. After the AMI exists (and its copies in ami_regions): record its IDs,
  #    sign the attestations bound to them, check them against the key the
  #    image trusts, publish them. COSIGN_PASSWORD is inherited from the
  #    environment of `packer build`.
  post-processors {
    post-processor "manifest" {
      output     = "${var.output_dir}/${source.name}/manifest.json"
      strip_path = true
    }

    post-processor "shell-local" {
      inline = [
        "bakeproof attest --sbom '${var.output_dir}/${source.name}/sbom.cdx.json' --seal '${var.output_dir}/${source.name}/seal.json' --key '${var.signing_key}' --packer-manifest '${var.output_dir}/${source.name}/manifest.json' -o '${var.output_dir}/${source.name}/attestations'",
        "bakeproof verify-attestation '${var.output_dir}/${source.name}/attestations/sbom.sigstore.json' '${var.output_dir}/${source.name}/attestations/seal.sigstore.json' --key '${var.signing_public_key}'",
        "bakeproof publish --store '${var.store}' --region '${var.store_region}' '${var.output_dir}/${source.name}/attestations'",
      ]
    }
  }
}
