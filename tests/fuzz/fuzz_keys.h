/*
 * fuzz_keys.h - the fixed keys of the fuzz targets (test material only).
 *
 * The private half of the P-256 key is keys/fuzz_p256.pem (and FUZZ_ES_PRIV); make_seeds.py
 * uses it and FUZZ_HS_SECRET to mint the valid seed tokens. Tokens are
 * checked at the fixed time FUZZ_NOW so that seeds never expire.
 */
#ifndef RVK_TESTS_FUZZ_KEYS_H
#define RVK_TESTS_FUZZ_KEYS_H

#define FUZZ_ISS "https://fuzz.example"
#define FUZZ_NOW 1764190000
#define FUZZ_HS_SECRET "fuzz-secret-0123456789abcdef-0123"
#define FUZZ_ES_PUB \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeI1X7dmRa1VssGIcRMl7pjXNQg2p\n" \
	"PsQ+y8pfeFKxwfN8F+Zrc6cBl4N2NFJyHCVnO9C5c7b+nWBXP4V8XsfqwA==\n" \
	"-----END PUBLIC KEY-----\n"

/* The private half, for targets that sign (fuzz_es256). */
#define FUZZ_ES_PRIV \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg45bRw4uYxZ49N9lZ\n" \
	"lh6yIzXapZNyDS9vwS0RI8S41+ahRANCAAR4jVft2ZFrVWywYhxEyXumNc1CDak+\n" \
	"xD7Lyl94UrHB83wX5mtzpwGXg3Y0UnIcJWc70Llztv6dYFc/hXxex+rA\n" \
	"-----END PRIVATE KEY-----\n"

/* A 2048-bit RSA key, e = 65537 (keys/fuzz_rsa2048.pem), for fuzz_rs256,
 * which signs encodings with its raw private-key operation. */
#define FUZZ_RS_PUB \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqQCppJ1E9GKZWBq60ZBb\n" \
	"9lgvNoejPJamHpdEo5G7fQ0QjcCjRgV7dqLVt5h3YbGTUtrZjA6OxhhuYIVCBzq9\n" \
	"Wv2hSFgIVxAFjrfT6o/XBVtPfZy+GUSc9wXHl/3cquqEmQ07i0/j7NahrxkA73yQ\n" \
	"5SM85SvSOkiCwK1hPIgTsK/ufJBrMDl0f0aBgNGpnsxMH5fpJjVn9g9o8ljXPxnq\n" \
	"a+VJpRM1zAGnXqWbp2akmR8GqWDz8YjX6GKKO2fvRU2QeTVtFith4Vx5OnVAr2ep\n" \
	"3nCiAlB+HR5V9iF3GgP833VsMC3F0dgCaNcgnIjPzs8YhGBnzrn4nEtYJ5Cc37Ws\n" \
	"PwIDAQAB\n" \
	"-----END PUBLIC KEY-----\n"

#define FUZZ_RS_PRIV \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCpAKmknUT0YplY\n" \
	"GrrRkFv2WC82h6M8lqYel0Sjkbt9DRCNwKNGBXt2otW3mHdhsZNS2tmMDo7GGG5g\n" \
	"hUIHOr1a/aFIWAhXEAWOt9Pqj9cFW099nL4ZRJz3BceX/dyq6oSZDTuLT+Ps1qGv\n" \
	"GQDvfJDlIzzlK9I6SILArWE8iBOwr+58kGswOXR/RoGA0amezEwfl+kmNWf2D2jy\n" \
	"WNc/Gepr5UmlEzXMAadepZunZqSZHwapYPPxiNfoYoo7Z+9FTZB5NW0WK2HhXHk6\n" \
	"dUCvZ6necKICUH4dHlX2IXcaA/zfdWwwLcXR2AJo1yCciM/OzxiEYGfOuficS1gn\n" \
	"kJzftaw/AgMBAAECggEAFTmi6gHhzUrtf64KZNPGEPgopHxq08BciFQEMqzUs2hm\n" \
	"z1QbIr9WhGMAB15hLpuq6TQuL/5gumAKy27WXj+81LGCRiqJkEb6rl7Hq9pj2BA3\n" \
	"OWCW/r0UykYSDV88jcSwDDl9ZHTkpx6aUM+JmV+iIlJczVrFvOcqxhXLCVtSacAC\n" \
	"NqOpK9UbPbiv8uy8kjqpVod0zXF15tj41ZUVeI5JZR5NieRLNgMTgz/OKA7gdP/F\n" \
	"OxHKRhNYZgZe/EaM14+XSZe+zlZhbDWhYBT2nkbd2xk4wnNSamqKUUTE7LOipyLB\n" \
	"vnY+USc8oNGvZzbZysG0Ptid40etWoOXuPAEbmLeuQKBgQDnBITBvFzRVkPrmg6x\n" \
	"rFp/B1JRpAAS783d8pvmOxqrW5/IN44sXBMNLBd3jour5+7iVDnBiO/CaIZDGxDk\n" \
	"g9iFY4Dpj1gb8IktGDQdvIP+0OLSUhflxaA5XrcwUcFPrL++ommdh5q4sE3i6Ueh\n" \
	"uDNd43tJDed3gWh0u6BKBtyEOQKBgQC7R1J2YeQ5XXDdYHXMS7D35sybrJ/BHfMi\n" \
	"CAThSfbxiHNpy0856qdgb2HIBFuUf8T15XPqj4eNpcLLTW6zxMwxNKQK/cVvUeO/\n" \
	"feXhbHw6MCHlHivY4e52YVCRxCnV1zgYP97Jvc3yldTZgFJKmyRCQpCyAEpL/yOo\n" \
	"Q3zUDidkNwKBgQDiDQnaiPZJ4J+Vaqn2MTBcHE3wlQl9filzhHIIVs1B3+X5hGMa\n" \
	"BP6fZQWRd2o0TD70OHZLajMxiBXYlCNzd4/m9faulBUjQbr45TYZ4t1F+h/4rVu0\n" \
	"+ixN9uBJ57XAwMjfQQ0XmBlNnzaXUq1FEXkx5eY9Fd3okjgkAXRW+1/MAQKBgDG0\n" \
	"gkxtOteG11fKLDmmtTd2iEOhE118B3W2zyTELsh4QLmJfmOOxhGwPjGKBoxpROtG\n" \
	"lPdiVMXhgsvWp1ULHG7K2+cW53neMCY40fR8iJQhBj37PgP4IwREW8/0Um4xCvBU\n" \
	"s1q0B58k6TM4/Z5TgtIbPLAhp5Z4Bwy3rL/Tad0NAoGAIJWSoPtdvxRDDYd05OcO\n" \
	"ijQs6OpX6795+txVLFXjRL/zO1km4qCOdLC+m3tSE/l//cbdUwDp4ozm4rDneA62\n" \
	"/fdmAu6/Fi6aLozgiZMAVxLDIuZb77bsQivpbpIw0kiy5ibOhIeAo2B40TenmZYA\n" \
	"HFmzENwJt/gi1VPSHhtBcdY=\n" \
	"-----END PRIVATE KEY-----\n"

/* A second one whose public exponent is 2^40 + 15 (keys/fuzz_rsa2048_e40.pem):
 * its bits take the multiplications inside auth/rsa.c's loop. */
#define FUZZ_RS_E40_PUB \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MIIBJTANBgkqhkiG9w0BAQEFAAOCARIAMIIBDQKCAQEAie5ESg1kiBf4OgKetz9C\n" \
	"QRKsnMg7UdKvL+7rrt7nxlaSOt5AaSmKSbGUILy4Nnc9hAhOUp5scStrhuM+tSZm\n" \
	"YqO1kgXq+7viw+rfLQmQVoHNyyQ5/CBgNVIRitOVoaxDWsKcOD/nBnG5InQlVt02\n" \
	"EJe1yotp7VPBzEdEpK73sJPOHqdh8lEDl64Mi/rWs0U6+rn7jb6fQzlv4RgZSVIt\n" \
	"hpEqMb/gpJHkL0jRTWKfnmi2+Kdyi4aFjoU58GDVFf4z2EWb68ock+MIThBTet04\n" \
	"poaNSrygjGXTqZjbov4wuujn+HBnK/QQj/+ZjkRnqRuny96jhZyCASoa8SwMNUzy\n" \
	"VwIGAQAAAAAP\n" \
	"-----END PUBLIC KEY-----\n"

#define FUZZ_RS_E40_PRIV \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MIIEwQIBADANBgkqhkiG9w0BAQEFAASCBKswggSnAgEAAoIBAQCJ7kRKDWSIF/g6\n" \
	"Ap63P0JBEqycyDtR0q8v7uuu3ufGVpI63kBpKYpJsZQgvLg2dz2ECE5SnmxxK2uG\n" \
	"4z61JmZio7WSBer7u+LD6t8tCZBWgc3LJDn8IGA1UhGK05WhrENawpw4P+cGcbki\n" \
	"dCVW3TYQl7XKi2ntU8HMR0Skrvewk84ep2HyUQOXrgyL+tazRTr6ufuNvp9DOW/h\n" \
	"GBlJUi2GkSoxv+CkkeQvSNFNYp+eaLb4p3KLhoWOhTnwYNUV/jPYRZvryhyT4whO\n" \
	"EFN63Timho1KvKCMZdOpmNui/jC66Of4cGcr9BCP/5mORGepG6fL3qOFnIIBKhrx\n" \
	"LAw1TPJXAgYBAAAAAA8CggEAErRZhu//RGV3WlavyHz7q3jqN0ZqAFWr4FUI0L3W\n" \
	"H+eI1qmUq9LNNfpIoepiYDRWYu5wKB340YjUGKDVq0dup+1JN1KIlSrhPQ7ZXo06\n" \
	"37Ol5rJ/Uwkv/0I+k22h3wPLvuZLyfwo5PVMW3bh93X9p95tZCsyvFdSbMD9SA/T\n" \
	"/p9MyZIIVvr48RAhWooJmvM2+w6GBWwzkm7K+nD4nK527gdWsEH0jaegr/QcoUya\n" \
	"MT0UbT4YpBeM/Sbesx/vQ3KahlF0cn3zfvghzfGALi15wVs/klx4nn4JNA1ugtnG\n" \
	"b2HzkZWQ1O0lgmVFASNFBIvpMws/esmILXbC4P5S3004LwKBgQC8cR1HwYwQ2hGJ\n" \
	"p5rcmzj4DWP11J0OJ9CUHMQZNjVkd6khQ9d9snMsZlWKi1xTiIRi1d8uFESDC+is\n" \
	"YYctKtXuLbeWAlg99WAfyimLswuhRtSp3W2FGkkNbKfl4jYh8l2qVU35YC2NBu4E\n" \
	"S9Dkvq/uNvpzSoVvu64bS4Z9CwzP1QKBgQC7YVLszVzR2Onct5Wm9GGCEuPnZy5R\n" \
	"y0Q1Y+eFFe+SKwj0010VT6LSZtR5nNWlXoVQDzkJGYwFEy3GHct951PsMXH0omqu\n" \
	"bcJQbt2Kb/0SwkFgz1CmCWAjL/nrvrBtnJZ72jxPP7FRPisbm6Wt571vcEs6i5Mm\n" \
	"AcJduSNHl8M7ewKBgQCo++z5CrGVVtJPNH0+ewNfhNNTOGptHWOJPBJ/64uH86uA\n" \
	"qWtLE8c7xgV6MUBOy9+B5CxSM7da6rAcVZZ+6a45lgm4zwKGPgL6COC4A6nh4Ubm\n" \
	"eH8BcrBUExSCIycM5IqOI3VNuRJcaByxpL7+O9sBOUV8KcDM8nDr2PodYpU4BwKB\n" \
	"gQCsLAC+G7alUcMvhAwHOL4hH+Ih5kBk9a/eQddinjHa5uGyPQojpnuXObYRpVRs\n" \
	"g2xqykUMPUoO9ZVq+2H72dAzgyawwGU/1LQO5km8sFSG9J7Mf5E7QOXMaFB2+we7\n" \
	"GIGu+cfd7yAfeTdvAG+08jT1jC9Gly3dE9ykwt+KOJv63QKBgCPQa9+W996ojrV9\n" \
	"s3dkMw/bXUuAdJT690g7oR5c/qmy0+xp0Bbff903xr5aYGSNQB3abBK7SSAIIQ4M\n" \
	"XsFCXI4OrXUttEcLbuoKTKNVYJMd/ny+kGOu3D/AR0Ez+buMHIfjSpuqcoAcOhV2\n" \
	"B2OUI6+1cQuu65bIIYaze1YknYw8\n" \
	"-----END PRIVATE KEY-----\n"

#endif
