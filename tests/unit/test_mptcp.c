#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "mptcp.h"

Test(mptcp, unavailable_reasons_name_the_cause)
{
	cr_expect(mptcp_unavailable(EPROTONOSUPPORT));
	cr_expect(mptcp_unavailable(ENOPROTOOPT));
	cr_expect(mptcp_unavailable(EINVAL));
	cr_expect(!mptcp_unavailable(EMFILE));
	cr_expect(!mptcp_unavailable(EAFNOSUPPORT));
	cr_expect(strstr(mptcp_unavailable_reason(ENOPROTOOPT), "net.mptcp.enabled=0"));
	cr_expect(strstr(mptcp_unavailable_reason(EPROTONOSUPPORT), "CONFIG_MPTCP"));
	cr_expect(strstr(mptcp_unavailable_reason(EINVAL), "5.6"));
}

Test(mptcp, path_advice)
{
	struct mptcp_info_prefix info = { .subflows_max = 2 };
	cr_expect(strstr(mptcp_path_advice(&info), "no MPTCP endpoints configured"));
	info.local_addr_max = 1;
	cr_expect_null(mptcp_path_advice(&info));
	info.subflows_max = 0;
	cr_expect(strstr(mptcp_path_advice(&info), "subflow limit is 0"));
	info = (struct mptcp_info_prefix){ .subflows_max = 2, .add_addr_accepted_max = 1 };
	cr_expect_null(mptcp_path_advice(&info));
}

Test(mptcp, plain_tcp_socket_is_tcp_without_asking)
{
	enum mptcp_evidence evidence = MPTCP_EVIDENCE_NONE;
	cr_expect_eq(mptcp_status_of(-1, false, &evidence), MPTCP_STATUS_TCP);
	cr_expect_eq(evidence, MPTCP_EVIDENCE_SOCKET);
}

Test(mptcp, closed_descriptor_has_no_evidence)
{
	/* A descriptor that answers nothing: never claim MPTCP without proof.
	 * (The verdict is meaningful only after connect: an unconnected MPTCP
	 * socket reports TCP_IS_MPTCP = 1.) */
	enum mptcp_evidence evidence = MPTCP_EVIDENCE_TCP_IS_MPTCP;
	cr_expect_eq(mptcp_status_of(-1, true, &evidence), MPTCP_STATUS_UNKNOWN);
	cr_expect_eq(evidence, MPTCP_EVIDENCE_NONE);
	cr_expect_str_eq(mptcp_evidence_name(evidence), "none");
}

Test(mptcp, info_is_evidence_only_from_5_16)
{
	cr_expect(!mptcp_info_proves_status("5.15.0-91-generic"));
	cr_expect(mptcp_info_proves_status("5.16.0"));
	cr_expect(mptcp_info_proves_status("6.1.0-28-amd64"));
	cr_expect(mptcp_info_proves_status("6.18.44-fc"));
	cr_expect(!mptcp_info_proves_status("4.19.0"));
	cr_expect(!mptcp_info_proves_status("garbage"));
}
