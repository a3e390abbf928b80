package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3PartSize is the part size of multipart uploads. It bounds the memory
// an upload of unknown size buffers (minio-go would otherwise pick parts
// large enough for a 5 TiB object) and caps such uploads at 10,000 parts,
// about 156 GiB.
const s3PartSize = 16 << 20

// S3Config says how to reach an S3-compatible service.
type S3Config struct {
	// Endpoint is the service's host and optional port, such as
	// "127.0.0.1:9000" or "s3.eu-central-1.amazonaws.com". A leading
	// "https://" turns UseSSL on; a leading "http://" requires UseSSL off.
	Endpoint string
	// AccessKey is the access key ID.
	AccessKey string
	// SecretKey is the secret access key.
	SecretKey string
	// Bucket is the bucket that holds the objects. NewS3 creates it when
	// missing.
	Bucket string
	// Region is the bucket's region; empty lets the client find it out
	// (and creates a missing bucket in the service's default region).
	Region string
	// UseSSL makes the client use HTTPS.
	UseSSL bool
}

// S3 is a Store that keeps objects in a bucket of an S3-compatible service
// such as MinIO, with object names equal to the keys. It is safe for
// concurrent use.
type S3 struct {
	client *minio.Client
	bucket string
}

var _ Store = (*S3)(nil)

// NewS3 connects to the service that cfg describes and makes sure the bucket
// exists, creating it when missing. Two processes starting at once against
// a missing bucket both succeed.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	endpoint, secure, err := s3Endpoint(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Bucket == "" {
		return nil, errors.New("media: s3 bucket not set")
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("media: s3 client: %w", err)
	}
	s := &S3{client: client, bucket: cfg.Bucket}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

// s3Endpoint returns the host[:port] and TLS setting to give minio-go,
// accepting an endpoint written as a URL as well.
func s3Endpoint(cfg S3Config) (endpoint string, secure bool, err error) {
	endpoint, secure = cfg.Endpoint, cfg.UseSSL
	switch {
	case strings.HasPrefix(endpoint, "https://"):
		endpoint, secure = strings.TrimPrefix(endpoint, "https://"), true
	case strings.HasPrefix(endpoint, "http://"):
		if cfg.UseSSL {
			return "", false, fmt.Errorf("media: s3 endpoint %q is plain http but UseSSL is set", cfg.Endpoint)
		}
		endpoint = strings.TrimPrefix(endpoint, "http://")
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	if endpoint == "" {
		return "", false, errors.New("media: s3 endpoint not set")
	}
	if strings.Contains(endpoint, "/") {
		return "", false, fmt.Errorf("media: s3 endpoint %q must be a host[:port] without a path", cfg.Endpoint)
	}
	return endpoint, secure, nil
}

// ensureBucket creates the bucket unless it already exists.
func (s *S3) ensureBucket(ctx context.Context, region string) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("media: s3 bucket %q: %w", s.bucket, err)
	}
	if exists {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err == nil {
		return nil
	}
	// Someone else may have created it since BucketExists answered.
	if s3Code(err) == minio.BucketAlreadyOwnedByYou {
		return nil
	}
	// Some services answer BucketAlreadyExists even to the bucket's owner;
	// the bucket is fine when we can reach it.
	if exists, err2 := s.client.BucketExists(ctx, s.bucket); err2 == nil && exists {
		return nil
	}
	return fmt.Errorf("media: s3 create bucket %q: %w", s.bucket, err)
}

// Put stores the content of r under key; see Store.Put. When r can seek,
// its remaining length is checked against size (or taken as the size when
// size is -1). An upload of unknown size goes up as a multipart upload,
// buffering 16 MiB at a time.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	ct, err := checkContentType(contentType)
	if err != nil {
		return err
	}
	if size < -1 {
		size = -1
	}
	if seeker, ok := r.(io.Seeker); ok {
		// minio-go trims a longer seekable reader to size without a word and
		// retries a shorter one for seconds before failing; check up front.
		// Knowing the length also spares an unknown-size upload. (A pipe
		// passes for a Seeker but fails to seek: leave it to minio-go.)
		left, err := remaining(seeker)
		switch {
		case err != nil:
		case size < 0:
			size = left
		case left < size:
			return fmt.Errorf("media: put %q: reader yields %d bytes, %d announced: %w", key, left, size, io.ErrUnexpectedEOF)
		case left > size:
			return fmt.Errorf("media: put %q: reader yields more than the announced %d bytes", key, size)
		}
	}
	_, err = s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType: ct,
		PartSize:    s3PartSize,
	})
	if err != nil {
		return fmt.Errorf("media: put %q: %w", key, err)
	}
	return nil
}

// Get opens the object stored under key; see Store.Get. The returned reader
// fetches the object under ctx, so ctx must stay live until reading ends.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := ValidKey(key); err != nil {
		return nil, Object{}, err
	}
	// One GET yields both the headers and the body, so the reader always
	// matches the Object returned with it, even when the key is being
	// overwritten. (minio.Client.GetObject would send a HEAD first and fail
	// the read with PreconditionFailed if the object changed in between.)
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Object{}, s.getError(key, err)
	}
	return body, Object{
		Key:         key,
		ContentType: info.ContentType,
		Size:        info.Size,
		ModTime:     info.LastModified,
	}, nil
}

// remaining returns how many bytes are left to read from s, leaving its
// position unchanged.
func remaining(s io.Seeker) (int64, error) {
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := s.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := s.Seek(cur, io.SeekStart); err != nil {
		return 0, err
	}
	return max(end-cur, 0), nil
}

// getError turns a GET error into Get's error.
func (s *S3) getError(key string, err error) error {
	if s3Code(err) == minio.NoSuchKey {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return fmt.Errorf("media: get %q: %w", key, err)
}

// Delete removes the object stored under key; see Store.Delete.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && s3Code(err) != minio.NoSuchKey {
		return fmt.Errorf("media: delete %q: %w", key, err)
	}
	return nil
}

// Ping checks that the service answers and the bucket is there; see
// Store.Ping.
func (s *S3) Ping(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("media: s3 ping: %w", err)
	}
	if !exists {
		return fmt.Errorf("media: s3 ping: bucket %q does not exist", s.bucket)
	}
	return nil
}

// s3Code returns the S3 error code carried by err, or "".
func s3Code(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}
