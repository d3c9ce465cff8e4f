"""Reads back, with boto3 (botocore's own signer), every object under a prefix: prints KEY SIZE SHA256."""
import hashlib
import sys

import boto3
from botocore.config import Config

endpoint, bucket, prefix, key_id, secret = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key=secret,
                  config=Config(s3={"addressing_style": "path"}))
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    for item in page.get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        print(item["Key"], len(body), hashlib.sha256(body).hexdigest())
