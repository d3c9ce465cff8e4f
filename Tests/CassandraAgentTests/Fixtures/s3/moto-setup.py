"""Sets up a fresh moto_server (started with INITIAL_NO_AUTH_ACTION_COUNT=5) for the tests:
an IAM user with an access key and an s3:* policy, and a bucket; prints the key id and secret.
Then the server checks Signature V4 on every request."""
import json
import sys

import boto3

endpoint, bucket = sys.argv[1], sys.argv[2]
anon = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam = boto3.client("iam", **anon)
iam.create_user(UserName="agent")                                                    # 1
key = iam.create_access_key(UserName="agent")["AccessKey"]                           # 2
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
arn = iam.create_policy(PolicyName="s3-all", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]  # 3
iam.attach_user_policy(UserName="agent", PolicyArn=arn)                              # 4
s3 = boto3.client("s3", **anon)
s3.create_bucket(Bucket=bucket)                                                      # 5
print(key["AccessKeyId"])
print(key["SecretAccessKey"])
