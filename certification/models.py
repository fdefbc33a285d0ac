"""Every model, imported in one place so that Alembic and ``db.create_all`` see them all."""

from certification.audit import AuditEvent
from certification.auth.models import ApiToken, PasswordSetupLink, Role, User
from certification.catalogue.models import (
    Assessment,
    CatalogueTranslation,
    Course,
    DomainMinimum,
    Level,
    Programme,
    RenewalDomainMinimum,
    programme_assessment,
)
from certification.certificates.models import (
    AwardHold,
    BrandingImage,
    Certificate,
    CertificatePdf,
    IssueJob,
    IssueJobItem,
    PartnerBody,
    Verification,
)
from certification.claims.models import Claim, ClaimEvidence
from certification.credentials.models import (
    IssuedCredential,
    WalletDelivery,
    WalletGrant,
    WalletNonce,
    WalletToken,
)
from certification.idempotency import IdempotencyKey
from certification.imports.models import ImportUpload
from certification.mail.models import OutgoingEmail
from certification.privacy_models import ErasureRequest
from certification.records.models import (
    AssessmentAttempt,
    CpdActivity,
    CreditRecord,
    ProgrammeStanding,
    StandingJob,
)
from certification.reports.models import ReportSnapshot

__all__ = [
    "ApiToken",
    "Assessment",
    "AssessmentAttempt",
    "AuditEvent",
    "AwardHold",
    "BrandingImage",
    "CatalogueTranslation",
    "Certificate",
    "CertificatePdf",
    "Claim",
    "ClaimEvidence",
    "Course",
    "CpdActivity",
    "CreditRecord",
    "DomainMinimum",
    "ErasureRequest",
    "IdempotencyKey",
    "ImportUpload",
    "IssueJob",
    "IssueJobItem",
    "IssuedCredential",
    "Level",
    "OutgoingEmail",
    "PartnerBody",
    "PasswordSetupLink",
    "Programme",
    "ProgrammeStanding",
    "RenewalDomainMinimum",
    "ReportSnapshot",
    "Role",
    "StandingJob",
    "User",
    "Verification",
    "WalletDelivery",
    "WalletGrant",
    "WalletNonce",
    "WalletToken",
    "programme_assessment",
]
