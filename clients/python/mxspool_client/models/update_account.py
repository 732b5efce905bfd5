from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateAccount")


@_attrs_define
class UpdateAccount:
    """Changes to an account; absent fields stay as they are.

    Example:
        {'max_domains': 50}

    Attributes:
        email (None | str | Unset):
        max_domains (int | None | Unset): Customers only; set by an operator.
        may_create_domain_admins (bool | None | Unset): Customers only; set by an operator.
        password (None | str | Unset):
    """

    email: None | str | Unset = UNSET
    max_domains: int | None | Unset = UNSET
    may_create_domain_admins: bool | None | Unset = UNSET
    password: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email

        max_domains: int | None | Unset
        if isinstance(self.max_domains, Unset):
            max_domains = UNSET
        else:
            max_domains = self.max_domains

        may_create_domain_admins: bool | None | Unset
        if isinstance(self.may_create_domain_admins, Unset):
            may_create_domain_admins = UNSET
        else:
            may_create_domain_admins = self.may_create_domain_admins

        password: None | str | Unset
        if isinstance(self.password, Unset):
            password = UNSET
        else:
            password = self.password

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if email is not UNSET:
            field_dict["email"] = email
        if max_domains is not UNSET:
            field_dict["max_domains"] = max_domains
        if may_create_domain_admins is not UNSET:
            field_dict["may_create_domain_admins"] = may_create_domain_admins
        if password is not UNSET:
            field_dict["password"] = password

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        def _parse_max_domains(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_domains = _parse_max_domains(d.pop("max_domains", UNSET))

        def _parse_may_create_domain_admins(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        may_create_domain_admins = _parse_may_create_domain_admins(d.pop("may_create_domain_admins", UNSET))

        def _parse_password(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        password = _parse_password(d.pop("password", UNSET))

        update_account = cls(
            email=email,
            max_domains=max_domains,
            may_create_domain_admins=may_create_domain_admins,
            password=password,
        )

        return update_account
