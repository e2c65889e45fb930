#!/usr/bin/env bash
# Synthesizes the stacks from the definition and exports this region's Terraform outputs the next steps
# need (releases bucket, API and front Auto Scaling group names) into the job's environment.
# Usage: outputs.sh REGION   (in GitHub Actions; writes to $GITHUB_ENV)
set -euo pipefail
region="${1:?usage: outputs.sh REGION}"
npx tier synth aws --out out/aws >/dev/null
stack="$(node -e 'const m=require("./out/aws/manifest.json"); const s=Object.keys(m.stacks).find((n)=>n.endsWith("-"+process.argv[1])); if(!s){console.error("no stack for region "+process.argv[1]+" in out/aws/manifest.json: is it in regions.primary/secondary of stack.config.ts?");process.exit(1)} console.log(s)' "$region")"
dir="out/aws/stacks/$stack"
terraform -chdir="$dir" init -input=false >/dev/null
{
  echo "STACK_DIR=$dir"
  echo "RELEASES_BUCKET=$(terraform -chdir="$dir" output -raw releases_bucket)"
  echo "API_ASG=$(terraform -chdir="$dir" output -raw api_asg)"
  echo "FRONT_ASG=$(terraform -chdir="$dir" output -raw front_asg)"
} >> "${GITHUB_ENV:?outputs.sh runs inside GitHub Actions}"
