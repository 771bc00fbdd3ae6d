#!/bin/sh
# The image's lifecycle around a Packer build (docs/packer.md "The
# lifecycle"), run by CI on the build host, never in the VM:
#
#   lifecycle.sh recorded MANIFEST   after `bakeproof publish`: every AMI of
#                                    the build's last run recorded as testing
#                                    (labels from the manifest's custom_data
#                                    and build_time), EC2 tags mirrored
#   lifecycle.sh promote MANIFEST    after the image's tests passed: approved,
#                                    then the channel moved to it and the AMI
#                                    it pointed at before deprecated
#
# Environment: STORE (s3://BUCKET/PREFIX or a directory), STORE_REGION, KEY
# (a cosign key file with COSIGN_PASSWORD in the environment, or
# awskms:///alias/NAME), CHANNEL (default: prod), DEPRECATE_AT (optional:
# when the previous AMI counts as deprecated, RFC 3339; default: now).
# AWS credentials: the usual chain (the CI job's role).
set -eu

mode=$1
manifest=$2
: "${STORE:?}" "${STORE_REGION:?}" "${KEY:?}"
channel=${CHANNEL:-prod}

# REGION:AMI-ID of every AMI of the last run (artifact_id is a
# comma-separated list, one per region of ami_regions).
amis=$(jq -r '.last_run_uuid as $run | .builds[] | select(.packer_run_uuid == $run)
              | .artifact_id | split(",")[]' "$manifest")

for ami in $amis; do
    case $mode in
    recorded)
        bakeproof lifecycle test "$ami" --store "$STORE" --region "$STORE_REGION" --key "$KEY" \
            --packer-manifest "$manifest" --ec2
        ;;
    promote)
        bakeproof lifecycle approve "$ami" --store "$STORE" --region "$STORE_REGION" --key "$KEY" \
            --reason "integration tests passed" --ec2
        if [ -n "${DEPRECATE_AT:-}" ]; then
            bakeproof channel set "$channel" "$ami" --store "$STORE" --region "$STORE_REGION" \
                --key "$KEY" --deprecate-previous --at "$DEPRECATE_AT" --ec2
        else
            bakeproof channel set "$channel" "$ami" --store "$STORE" --region "$STORE_REGION" \
                --key "$KEY" --deprecate-previous --ec2
        fi
        ;;
    *)
        echo "usage: $0 recorded|promote MANIFEST" >&2
        exit 2
        ;;
    esac
done
